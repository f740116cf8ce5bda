"""Everyday Chinese vocabulary with parts of speech, from jieba's dictionary (shipped inside the package, read
once: the matcher loads it when it is built, so the first question does not pay for it).

Two uses: a query window that is an everyday word ("下个", "收费") is never "corrected" into a similar-sounding
domain word; and words the knowledge base has never seen weigh by what they are — a noun the base does not know
("烟草", "商标") is strong evidence the question is about something else, a verb or a connective ("然后",
"听说") hardly any.
"""

from __future__ import annotations

import importlib.util
import os
from functools import lru_cache


@lru_cache(maxsize=1)
def everyday_words() -> dict[str, str]:
    """word (2–4 characters) -> jieba part-of-speech tag."""
    # only the dictionary file is needed: importing jieba itself would cost another ~120 ms
    spec = importlib.util.find_spec("jieba")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("jieba is required for its dictionary")
    path = os.path.join(spec.submodule_search_locations[0], "dict.txt")
    words: dict[str, str] = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and 2 <= len(parts[0]) <= 4:
                words[parts[0]] = parts[2]
    return words


# weight of an unseen two-character gram by its part of speech; absent from the dictionary means the gram spans a
# word boundary ("后寄"), which says little
_POS_WEIGHT = {"n": 1.0, "nz": 1.0, "vn": 1.0, "nt": 1.0, "nrt": 0.5, "nr": 0.3, "ns": 0.3, "v": 0.5}
CROSS_WORD_WEIGHT = 0.35
OTHER_POS_WEIGHT = 0.25


def unseen_weight(gram: str) -> float:
    pos = everyday_words().get(gram)
    if pos is None:
        return CROSS_WORD_WEIGHT
    return _POS_WEIGHT.get(pos, OTHER_POS_WEIGHT)
