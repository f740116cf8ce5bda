"""Fit the matcher's confidence calibration (bot/core/matching/matcher.py: CALIBRATION).

For every labelled question that is about an entry (item/exemption) or about nothing we know (unknown), take the
matcher's best candidate and its features; the label is whether that candidate is the right answer. A logistic
regression on (raw score, phrase coverage, query coverage, fuzzy ratio, margin over the runner-up) turns the raw
blend into a probability, so `score` means what it says and the 0.5 threshold is a real decision boundary.

Run: python bench/fit_calibration.py FILE.jsonl [FILE2.jsonl …]   (prints the tuple to paste, and the fit's
accuracy on each file)
     python bench/fit_calibration.py --catalogue   (the spec dev set on the shipped base together with our own
     development questions about the 广安区 catalogue, bench/data/dev_guangan.jsonl, on the catalogue imported at
     run time from ../shared; the blind set is never used)

The margin is taken over other matters only, as the matcher does: variants of one matter tie by nature.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from bot.core.answering.matcher import Matcher
from bot.core.knowledge import load_knowledge


def features(m: Matcher, text: str):
    u = m.understand(text)
    if u.empty or u.intent in ("smalltalk", "appeal"):
        return None
    flat = u.corrected.replace(" ", "")
    scored = m._raw_scores(u.content, flat)
    if not scored:
        return None
    ei, raw, _, (pc, qc, fz) = scored[0]
    fid = m._family_id[ei]
    others = [r for e, r, _, _ in scored[1:] if fid < 0 or m._family_id[e] != fid]
    margin = raw - others[0] if others else raw
    return m.ids[ei], [1.0, raw, pc, qc, fz, margin]


def load(m: Matcher, path: Path):
    X, y = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["intent"] not in ("item", "exemption", "unknown"):
            continue
        got = features(m, row["text"])
        if got is None:
            continue
        top, x = got
        X.append(x)
        y.append(1.0 if row["intent"] != "unknown" and top == row["target"] else 0.0)
    return np.array(X), np.array(y)


# A wrong answer costs more than an honest "I don't know" (which still offers a 诉求): weigh them so.
WRONG_COST = 4.0


def fit(X: np.ndarray, y: np.ndarray, l2: float = 0.01, steps: int = 20000, lr: float = 0.5) -> np.ndarray:
    w = np.zeros(X.shape[1])
    cost = np.where(y == 1, 1.0, WRONG_COST)
    for _ in range(steps):
        p = 1 / (1 + np.exp(-X @ w))
        grad = X.T @ ((p - y) * cost) / cost.sum() + l2 * np.r_[0, w[1:]]
        w -= lr * grad
    return w


def load_catalogue(m: Matcher, path: Path):
    """Own questions about imported items: right when the best candidate is one of the expected names (for a
    family question, any of its variants: the matter is right, the dialogue then asks which variant)."""
    X, y = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        got = features(m, row["text"])
        if got is None:
            continue
        top, x = got
        X.append(x)
        y.append(1.0 if m.kb.get(top).name in row["expect"] else 0.0)
    return np.array(X), np.array(y)


def catalogue_matcher() -> Matcher:
    import datetime as dt
    import tempfile

    from bot.core.knowledge.catalog import apply_import, plan_import

    source = ROOT.parent / "shared/research-data/guangan-zwfw-items/bszl-data.json"
    into = Path(tempfile.mkdtemp(prefix="fit-catalogue-")) / "kb"
    plan = plan_import(source, into, today=dt.date(2026, 11, 26))
    apply_import(plan)
    return Matcher(load_knowledge(into))


ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    if sys.argv[1:] == ["--catalogue"]:
        shipped, catalogue = Matcher(load_knowledge()), catalogue_matcher()
        sets = [
            ("spec devset (shipped base)", *load(shipped, ROOT.parent / "shared/spec/devset.jsonl")),
            ("dev_guangan (catalogue)", *load_catalogue(catalogue, ROOT / "bench/data/dev_guangan.jsonl")),
        ]
        X = np.vstack([x for _, x, _ in sets])
        y = np.concatenate([t for _, _, t in sets])
        w = fit(X, y)
        print("CALIBRATION =", tuple(round(float(v), 3) for v in w))
        for name, Xp, yp in sets:
            p = 1 / (1 + np.exp(-Xp @ w))
            acc = ((p >= 0.5) == (yp == 1)).mean()
            fa = ((p >= 0.5) & (yp == 0)).sum()
            fr = ((p < 0.5) & (yp == 1)).sum()
            print(
                f"{name}: n={len(yp)} decision accuracy {acc:.3f}; accepted-but-wrong {fa}; rejected-but-right {fr}"
            )
        return
    m = Matcher(load_knowledge())
    paths = [Path(p) for p in sys.argv[1:]] or [
        Path(__file__).resolve().parents[2] / "shared/spec/devset.jsonl"
    ]
    X, y = load(m, paths[0])
    w = fit(X, y)
    print("CALIBRATION =", tuple(round(float(v), 3) for v in w))
    for path in paths:
        Xp, yp = load(m, path)
        p = 1 / (1 + np.exp(-Xp @ w))
        acc = ((p >= 0.5) == (yp == 1)).mean()
        fa = ((p >= 0.5) & (yp == 0)).sum()
        fr = ((p < 0.5) & (yp == 1)).sum()
        print(
            f"{path.name}: n={len(yp)} decision accuracy {acc:.3f}; accepted-but-wrong {fa}; rejected-but-right {fr}"
        )


if __name__ == "__main__":
    main()
