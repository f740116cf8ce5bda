"""The learned part of routing: a linear model over character n-grams, trained on the centre's own tickets.

Training uses scikit-learn (TF-IDF of character 1–2-grams with sublinear counts, then a multinomial logistic
regression). What is kept is only numbers and strings — the vocabulary, the IDF weights, the coefficients and
the class names — saved with numpy's `savez` (no pickle), so a stored model is data, not code, and loading one
never runs anything. Prediction is done here with numpy over the same n-grams (well under a millisecond), so
routing a message never waits for scikit-learn.

No model ships with the project: each deployment trains its own from its tickets (see learning.py).
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from bot.core.tickets.classify import normalise

MAX_CHARS = 300
NGRAMS = (1, 2)
MIN_DF = 2
MAX_FEATURES = 120_000
FORMAT = 1


_NOT_WORD = re.compile(r"[\W_]+")


def _clean(text: str) -> str:
    # only letters and digits carry meaning; masked names (***), spaces and punctuation do not
    return _NOT_WORD.sub("", normalise((text or "")[:MAX_CHARS]))


def ngrams(text: str) -> list[str]:
    t = _clean(text)
    out: list[str] = []
    for n in range(NGRAMS[0], NGRAMS[-1] + 1):
        out.extend(t[i : i + n] for i in range(len(t) - n + 1))
    return out


@dataclass
class NgramModel:
    classes: list[str]
    vocab: dict[str, int]
    idf: np.ndarray  # (features,)
    coef: np.ndarray  # (classes, features), float32
    intercept: np.ndarray  # (classes,)
    trained_on: int = 0  # examples
    _coef_t: np.ndarray | None = field(default=None, repr=False, compare=False)

    # ------------------------------------------------------------------ training
    @classmethod
    def train(cls, texts: Sequence[str], labels: Sequence[str], *, c: float = 10.0) -> NgramModel:
        """Fit on (text, unit) pairs. Needs at least two different units."""
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        if len(set(labels)) < 2:
            raise ValueError("at least two units are needed to learn anything")
        # the same n-grams as `ngrams` (scikit-learn's character analyzer over the cleaned text)
        vec = TfidfVectorizer(
            analyzer="char",
            ngram_range=(NGRAMS[0], NGRAMS[-1]),
            preprocessor=_clean,
            lowercase=False,
            sublinear_tf=True,
            min_df=MIN_DF if len(texts) >= 200 else 1,
            max_features=MAX_FEATURES,
            dtype=np.float32,
        )
        x = vec.fit_transform(texts)
        # saga with a few passes: seconds on tens of thousands of tickets, and as accurate as a full fit here
        clf = LogisticRegression(C=c, solver="saga", max_iter=15, tol=1e-3)
        with warnings.catch_warnings():
            # a few passes stop before saga's own tolerance is met; the held-back check decides what is good
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(x, list(labels))
        classes = [str(k) for k in clf.classes_]
        coef = np.asarray(clf.coef_, dtype=np.float32)
        intercept = np.asarray(clf.intercept_, dtype=np.float32)
        if len(classes) == 2:  # scikit-learn keeps one row for two classes: make it the usual two
            coef = np.vstack([-coef[0] / 2, coef[0] / 2])
            intercept = np.array([-intercept[0] / 2, intercept[0] / 2], dtype=np.float32)
        vocab = {str(k): int(v) for k, v in vec.vocabulary_.items()}
        return cls(classes, vocab, vec.idf_.astype(np.float32), coef, intercept, trained_on=len(texts))

    # ------------------------------------------------------------------ prediction
    def predict(self, text: str) -> list[tuple[str, float]]:
        """Units with their probabilities, best first."""
        counts: dict[int, int] = {}
        get = self.vocab.get
        t = _clean(text)
        # the n-grams of `ngrams`, looked up as they are cut (most are not in the vocabulary)
        for n in range(NGRAMS[0], NGRAMS[-1] + 1):
            for i in range(len(t) - n + 1):
                j = get(t[i : i + n])
                if j is not None:
                    counts[j] = counts.get(j, 0) + 1
        if not counts:
            p = np.exp(self.intercept - self.intercept.max())
        else:
            idx = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
            tf = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
            vals = (1.0 + np.log(tf)) * self.idf[idx]
            vals /= float(np.sqrt(vals @ vals)) or 1.0
            z = vals @ self._by_feature[idx] + self.intercept
            p = np.exp(z - z.max())
        p = p / p.sum()
        order = np.argsort(-p)
        return [(self.classes[i], float(p[i])) for i in order]

    @property
    def _by_feature(self) -> np.ndarray:
        # (features, classes), contiguous: the rows of a message's n-grams are read in one gather
        if self._coef_t is None or self._coef_t.shape[0] != self.coef.shape[1]:
            self._coef_t = np.ascontiguousarray(self.coef.T)
        return self._coef_t

    # ------------------------------------------------------------------ storage
    def to_bytes(self) -> bytes:
        words = sorted(self.vocab, key=self.vocab.__getitem__)
        buf = io.BytesIO()
        np.savez_compressed(
            buf,
            format=np.array([FORMAT, self.trained_on], dtype=np.int64),
            classes=np.array(self.classes, dtype=np.str_),
            vocab=np.array(words, dtype=np.str_),
            idf=self.idf,
            coef=self.coef.astype(np.float16),
            intercept=self.intercept,
        )
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> NgramModel:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            fmt, trained_on = (int(v) for v in z["format"])
            if fmt != FORMAT:
                raise ValueError(f"model format {fmt} is not {FORMAT}")
            words = [str(w) for w in z["vocab"]]
            return cls(
                classes=[str(c) for c in z["classes"]],
                vocab={w: i for i, w in enumerate(words)},
                idf=z["idf"].astype(np.float32),
                coef=z["coef"].astype(np.float32),
                intercept=z["intercept"].astype(np.float32),
                trained_on=trained_on,
            )
