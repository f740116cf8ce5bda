"""Real gaps of the knowledge base, grouped by similarity: questions that got no answer, only a near entry, or
a clarifying question the person never answered (appeals, answered clarifications and small talk are not
gaps: the question log marks which rows are, see bot/core/assistant.py). Groups are what the digest's
"知识库待补充" list and `/gaps` show, with counts and examples, biggest first."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.core.text.normalize import compact

if TYPE_CHECKING:
    from bot.core.storage.protocols import LoggedQuestion

# two questions are one gap when they share this much of their content (bigrams)
SAME_GAP = 0.5
# ... or when one's content is nearly inside the other's ("宠物护照" and "宠物护照要什么材料")
INSIDE = 0.8
EXAMPLES = 3
# the most recent gap questions grouped for one list
GAP_ROWS = 5000


@dataclass
class GapGroup:
    id: int  # the id of its latest question: what /teach takes
    text: str  # its most frequent wording
    key: str  # the content words of that wording (what /teach makes an alias)
    count: int
    examples: list[str] = field(default_factory=list)  # other wordings
    kinds: Counter = field(default_factory=Counter)  # nomatch / near / clarify
    ids: list[int] = field(default_factory=list)


def _grams(key: str) -> frozenset[str]:
    return frozenset(key[i : i + 2] for i in range(len(key) - 1)) or frozenset({key})


def similar(a: frozenset[str], b: frozenset[str]) -> bool:
    both = len(a & b)
    if not both:
        return False
    return both / len(a | b) >= SAME_GAP or both / min(len(a), len(b)) >= INSIDE


def group_gaps(
    rows: Sequence[LoggedQuestion],
    key: Callable[[str], str] = compact,
    grams: Callable[[str], frozenset[str]] | None = None,
) -> list[GapGroup]:
    """Groups of similar gap questions, the biggest (then the most recent) first. `key` turns a question into
    the words that say what it is about (the matcher's content words; plain compact text by default); `grams`
    into the bigrams compared (the matcher's subject; the key's bigrams by default)."""
    groups: list[tuple[frozenset[str], GapGroup, Counter]] = []
    for row in rows:  # newest first: a group's id is its latest question
        k = key(row.text) or compact(row.text)
        if not k:
            continue
        g = (grams(row.text) if grams else frozenset()) or _grams(k)
        home = next((grp for grams, grp, _ in groups if similar(g, grams)), None)
        if home is None:
            home = GapGroup(id=row.id, text=row.text.strip(), key=k, count=0)
            groups.append((g, home, Counter()))
        wordings = next(c for _, grp, c in groups if grp is home)
        home.count += 1
        home.ids.append(row.id)
        home.kinds[row.gap or ""] += 1
        wordings[(row.text.strip(), k)] += 1
    out = []
    for _, grp, wordings in groups:
        (text, k), _n = wordings.most_common(1)[0]
        grp.text, grp.key = text, k
        grp.examples = [t for (t, _), _n in wordings.most_common() if t != text][:EXAMPLES]
        out.append(grp)
    return sorted(out, key=lambda grp: (-grp.count, -grp.id))
