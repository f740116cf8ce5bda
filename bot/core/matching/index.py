"""An inverted index of character n-grams over the phrases that name each entry.

Each entry is described by phrases (name, aliases, keywords) of different weights. A query is scored against
every phrase that shares a gram with it:
  - phrase coverage: how much of a phrase (IDF-weighted) the query contains — "身份证丢了" inside a longer
    rambling message still scores 1.0;
  - query coverage: how much of the query's content the entry's vocabulary explains — what keeps "烟草专卖
    许可证" from matching every 许可证 in the base.
Postings are numpy arrays, so a query costs a few vector operations whatever the size of the base.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np


def grams(text: str) -> set[str]:
    """Character bigrams within each space-separated run, plus single characters (weak evidence that still
    survives a one-character typo)."""
    out: set[str] = set()
    for run in text.split():
        out.update(run)
        out.update(run[i : i + 2] for i in range(len(run) - 1))
    return out


UNIGRAM_WEIGHT = 0.25


@dataclass
class Hit:
    entry: int
    phrase_cov: float  # best weighted phrase coverage
    query_cov: float  # share of the query's content explained by the entry
    matched: float  # IDF mass of the query explained by the entry
    best_phrase: int  # index of the best phrase


class GramIndex:
    def __init__(self, phrases: list[tuple[int, str, float]], n_entries: int):
        """phrases: (entry index, canonical compact text, field weight)."""
        self.n_entries = n_entries
        self.phrase_entry = np.array([p[0] for p in phrases], dtype=np.int32)
        self.phrase_weight = np.array([p[2] for p in phrases], dtype=np.float32)
        self.phrase_text = [p[1] for p in phrases]

        entry_grams: dict[str, set[int]] = defaultdict(set)
        phrase_grams: dict[str, list[int]] = defaultdict(list)
        per_phrase: list[set[str]] = []
        for pi, (ei, text, _w) in enumerate(phrases):
            gs = grams(text)
            per_phrase.append(gs)
            for g in gs:
                phrase_grams[g].append(pi)
                entry_grams[g].add(ei)

        n = max(n_entries, 1)
        self.idf: dict[str, float] = {}
        for g, ents in entry_grams.items():
            base = math.log(1 + (n - len(ents) + 0.5) / (len(ents) + 0.5))
            self.idf[g] = base * (UNIGRAM_WEIGHT if len(g) == 1 else 1.0)
        self.phrase_post = {g: np.array(v, dtype=np.int32) for g, v in phrase_grams.items()}
        self.entry_post = {g: np.array(sorted(v), dtype=np.int32) for g, v in entry_grams.items()}
        self.phrase_total = np.array(
            [sum(self.idf[g] for g in gs) or 1.0 for gs in per_phrase], dtype=np.float32
        )
        # idf given to a query gram the base has never seen: as rare as a gram can be
        self.unseen_idf = math.log(1 + (n + 0.5) / 0.5)
        # "a question's worth" of content: twice a typical phrase. A long message is judged by how much of
        # that an entry explains, not by how much of all its rambling.
        self.ref_mass = float(np.median(self.phrase_total)) * 2 if len(self.phrase_total) else 1.0

    def gram_idf(self, g: str) -> float:
        w = self.idf.get(g)
        if w is None:
            w = self.unseen_idf * (UNIGRAM_WEIGHT if len(g) == 1 else 1.0)
        return w

    def search(self, query: str, top: int = 8) -> list[Hit]:
        qg = grams(query)
        if not qg:
            return []
        known = [g for g in qg if g in self.phrase_post]
        q_total = sum(self.gram_idf(g) for g in qg)
        if not known or q_total <= 0:
            return []
        w = np.array([self.idf[g] for g in known], dtype=np.float32)

        p_ids = np.concatenate([self.phrase_post[g] for g in known])
        p_w = np.repeat(w, [len(self.phrase_post[g]) for g in known])
        e_ids = np.concatenate([self.entry_post[g] for g in known])
        e_w = np.repeat(w, [len(self.entry_post[g]) for g in known])

        # bincount over all phrases/entries beats np.unique on small and large bases alike
        matched_p = np.bincount(p_ids, weights=p_w, minlength=len(self.phrase_total))
        hit_p = np.flatnonzero(matched_p)
        matched = matched_p[hit_p].astype(np.float32)
        cov = matched / self.phrase_total[hit_p] * self.phrase_weight[hit_p]
        ents = self.phrase_entry[hit_p]

        matched_all = np.bincount(e_ids, weights=e_w, minlength=self.n_entries)
        hit_e = np.flatnonzero(matched_all)
        matched_e = matched_all[hit_e]
        qcov = matched_e / q_total

        # best phrase per entry: sort by (entry, cov) and take the last of each entry group
        order = np.lexsort((cov, ents))
        ents_sorted = ents[order]
        last = np.r_[ents_sorted[1:] != ents_sorted[:-1], True]
        best_idx = order[last]
        best_ent = ents[best_idx]
        best_cov = cov[best_idx]
        # hit_e and best_ent are both the sorted unique entries that were hit
        combined = 0.6 * best_cov + 0.4 * qcov
        k = min(top, len(combined))
        pick = np.argpartition(-combined, k - 1)[:k]
        pick = pick[np.argsort(-combined[pick], kind="stable")]
        return [
            Hit(
                entry=int(best_ent[i]),
                phrase_cov=float(best_cov[i]),
                query_cov=float(qcov[i]),
                matched=float(matched_e[i]),
                best_phrase=int(hit_p[best_idx[i]]),
            )
            for i in pick
        ]
