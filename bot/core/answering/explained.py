"""Choosing an imported item by what it explains of a question, weighted by how telling each word is.

A formal catalogue name is long and a question names a part of it in its own words: "超市搞促销活动要备案吗" is
about 零售商促销备案, and the calibrated confidence (fitted on entries written by hand, with everyday aliases)
stays low because most of the name is not in the question. What decides is which words of the question an item
explains: 促销 is used by one item in a thousand, 活动 and 备案 by hundreds. Each subject bigram of the question
counts by its IDF in the base; an imported item that explains most of that weight, and clearly more of it than
any other matter, is the one asked about. A question whose telling words no item holds (a noun the base has never
seen weighs the most) is explained by none, and stays unanswered.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

# share of the question's subject weight the chosen item must explain
EXPLAINED_SHARE = 0.6
# ... and by how much more than the best candidate of any other matter
EXPLAINED_MARGIN = 0.2
# ... and at least this many of its bigrams: one word ("电影" of 推荐几部好看的电影) is too little to go on
EXPLAINED_MIN_GRAMS = 2
# the chosen item must still be a plausible match: its calibrated confidence at least this
EXPLAINED_FLOOR = 0.1
# an item chosen this way is given this confidence at least (the matcher's ACCEPT), and this lead over the
# first candidate of another matter, so that the dialogue does not ask "which one" between it and an item that
# explains less (AMBIGUOUS_GAP of the matcher)
ACCEPTED, LEAD = 0.5, 0.1
# at most this confidence is given: a choice made this way is never "sure" (the matcher's modifier checks stay on)
CEILING = 0.94

# an imported item answered with less than sure confidence (the matcher's AMBIGUOUS_BELOW) must explain at least
# this share of the question's subject weight
UNSURE_BELOW, UNEXPLAINED_BELOW = 0.8, 0.35

Ranked = list[tuple[int, float, int]]


def explained_share(subject: Sequence[str], grams: frozenset[str], idf: Callable[[str], float]) -> float:
    """The IDF-weighted share of the subject bigrams that an entry's bigrams contain."""
    total = explained = 0.0
    for g in dict.fromkeys(subject):
        w = idf(g)
        total += w
        if g in grams:
            explained += w
    return explained / total if total > 0 else 0.0


def choose_explained(
    ranked: Ranked,
    subject: Sequence[str],
    *,
    imported: np.ndarray,
    family: np.ndarray,
    entry_grams: Callable[[int], frozenset[str]],
    idf: Callable[[str], float],
    foreign: bool = False,
) -> Ranked:
    """The ranking with the imported item that best explains the question first and accepted, when one does
    (see EXPLAINED_SHARE); the ranking as it is otherwise. Entries written by hand carry everyday aliases and
    the calibration is fitted on them: a ranking led by one of them with confidence is left alone."""
    if not ranked or not subject:
        return ranked
    best_ei, best_score, best_phrase = ranked[0]
    if not imported[best_ei] and best_score >= ACCEPTED:
        return ranked
    shares = [explained_share(subject, entry_grams(ei), idf) for ei, _, _ in ranked]
    if foreign and imported[best_ei] and ACCEPTED <= best_score < UNSURE_BELOW and len(set(subject)) >= 2:
        if shares[0] < UNEXPLAINED_BELOW:
            # most of what the question is about the item does not explain, words the base has never seen among
            # them ("打口井抽水灌溉…取水审批": 灌溉, 水务): it is offered, not answered
            return [(best_ei, ACCEPTED - 0.01, best_phrase), *ranked[1:]]
    # the best explanation among plausible imported candidates; ties go to the higher confidence
    order = sorted(
        (k for k, (ei, s, _) in enumerate(ranked) if imported[ei] and s >= EXPLAINED_FLOOR),
        key=lambda k: (-shares[k], -ranked[k][1]),
    )
    if not order:
        return ranked
    k = order[0]
    ei, score, phrase = ranked[k]
    grams = entry_grams(ei)
    if shares[k] < EXPLAINED_SHARE or sum(g in grams for g in set(subject)) < EXPLAINED_MIN_GRAMS:
        return ranked
    fid = family[ei]
    others = [j for j in range(len(ranked)) if j != k and (fid < 0 or family[ranked[j][0]] != fid)]
    rival_share = max((shares[j] for j in others), default=0.0)
    if shares[k] - rival_share < EXPLAINED_MARGIN:
        return ranked
    rival_score = max((ranked[j][1] for j in others), default=0.0)
    lifted = min(CEILING, max(score, ACCEPTED, rival_score + LEAD))
    if lifted <= score and k == 0:
        return ranked
    return [(ei, lifted, phrase), *(r for j, r in enumerate(ranked) if j != k)]


def prefer_asked_variant(
    ranked: Ranked,
    asked: frozenset[str],
    *,
    imported: np.ndarray,
    kinds: Sequence[frozenset[str]],
    close: float,
    subject: Sequence[str],
    entry_grams: Callable[[int], frozenset[str]],
    idf: Callable[[str], float],
) -> Ranked:
    """Among imported candidates close to the best (within `close`), the one whose name is the variant the
    question asks for ("网吧的许可证丢了": 补证 of the café's licence, not its opening or its change), first and
    ahead of the rest by LEAD, when exactly one of them is. Items of one catalogue name the same thing in
    different words ("开办互联网上网服务营业场所", "互联网上网服务营业场所经营单位补证审批") and so are not one family,
    yet the act asked for tells them apart as it does a family's variants. A specific act (补办, 注销, 变更…)
    counts; the new one only when nothing else is asked (many words imply it: "要办", "申请")."""
    if len(ranked) < 2 or not asked:
        return ranked
    specific = asked - {"new"} or asked
    top = ranked[0][1]
    near = [k for k, (ei, s, _) in enumerate(ranked) if s >= top - close and imported[ei]]
    fit = [k for k in near if kinds[ranked[k][0]] & specific]
    if len(fit) != 1 or len(near) < 2:
        return ranked
    k = fit[0]
    ei, score, phrase = ranked[k]
    # the act decides between items the question's words fit equally: "社保卡丢了要先挂失" names 挂失, which
    # the 补领 variant does not explain
    share = explained_share(subject, entry_grams(ei), idf)
    if any(explained_share(subject, entry_grams(ranked[j][0]), idf) > share + 1e-9 for j in near if j != k):
        return ranked
    rival = max(s for j, (_, s, _) in enumerate(ranked) if j != k)
    lifted = min(CEILING, max(score, ACCEPTED, rival + LEAD))
    return [(ei, lifted, phrase), *(r for j, r in enumerate(ranked) if j != k)]
