"""The same 事项 twice: an item imported from a centre's catalogue that an entry written by hand already holds.

A base that keeps its hand-written entries beside an imported catalogue has some matters twice: 发票领用 written
by hand (with everyday aliases, materials and fees) and "发票领用(县级行使）" imported with a name and a department.
Both would match a question equally, and which one answers is chance. An imported item is the duplicate of an
entry written by hand when its name, without level markers, bracketed qualifiers and marks, is that entry's
name or one of its aliases, or one of the parts of a name that joins two matters ("困难残疾人生活补贴和重度残疾人
护理补贴"). The matcher then answers with the entry written by hand, which also carries the imported name as a
phrase; the imported item stays in the base (exported, reviewed, and answered by id) and its file is never edited.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from bot.core.text.normalize import compact

from .models import Entry, Item

_BRACKET = re.compile(r"[（(][^（）()]*[）)]")
# a name that joins two matters: "困难残疾人生活补贴和重度残疾人护理补贴", "新办、换领"
_JOIN = re.compile(r"[和及与、，,/]")
# the level markers of formal names (the same words as intents/names.yaml's `levels`; kept here so that the
# knowledge layer does not depend on the answering cues)
_LEVELS = re.compile(r"县级权限|县级行使|市级权限|省级权限|县级|市级|省级|区级")
# a part shorter than this names too little to be a matter of its own
MIN_PART = 4


def _bare(name: str) -> str:
    text = unicodedata.normalize("NFKC", name)
    return compact(_LEVELS.sub("", _BRACKET.sub("", text)))


def _keys_of_written(name: str, aliases: Iterable[str]) -> set[str]:
    keys = {compact(unicodedata.normalize("NFKC", name)), _bare(name)}
    keys |= {compact(unicodedata.normalize("NFKC", a)) for a in aliases}
    bare = unicodedata.normalize("NFKC", _BRACKET.sub("", name))
    parts = [compact(p) for p in _JOIN.split(bare)]
    if len(parts) > 1:
        keys |= {p for p in parts if len(p) >= MIN_PART}
    return {k for k in keys if k}


def duplicates(entries: Iterable[Entry]) -> dict[str, str]:
    """imported item id -> the id of the entry written by hand that holds the same matter. An imported name that
    two different entries written by hand claim is left alone (which one it is would be a guess)."""
    written: dict[str, set[str]] = {}
    imported: list[tuple[str, str, str]] = []
    for e in entries:
        if not isinstance(e, Item) or e.kind != "item":
            continue
        eid, name = e.id, e.name
        if getattr(e, "imported", None) is not None:
            imported.append((eid, compact(unicodedata.normalize("NFKC", name)), _bare(name)))
        else:
            for k in _keys_of_written(name, e.aliases):
                written.setdefault(k, set()).add(eid)
    out: dict[str, str] = {}
    for eid, full, bare in imported:
        owners = written.get(full) or written.get(bare) or set()
        if len(owners) == 1:
            out[eid] = next(iter(owners))
    return out
