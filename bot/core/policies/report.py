"""The 惠企政策 part of the monthly 通报: the policies asked about most (with their department) and, overall, the
questions no policy answered (masked, shortened), from the question log (store.policies)."""

from __future__ import annotations

import datetime as dt

from bot.core.storage import Store
from bot.core.text.mask import mask_pii
from bot.core.texts import Texts, short

from .library import PolicyLibrary
from .texts import REPORT


async def policy_report(
    store: Store,
    library: PolicyLibrary,
    texts: Texts,
    start: dt.datetime,
    end: dt.datetime,
    department: str | None = None,
    top: int = 5,
) -> str | None:
    """The section for [start, end), overall (department None) or for one department's policies; None when a
    department's report has nothing to say about its policies."""
    rows = await store.policies.top_policies(start, end, top * 5 if department else top)
    asked: list[tuple[str, str, int]] = []
    for q in rows:
        policy = library.get(q.key)
        if policy is None:
            continue  # removed from the library since: nobody can act on it
        if department is None or policy.department == department:
            asked.append((policy.name, policy.department, q.count))
    asked = asked[:top]
    unanswered: list[tuple[str, int]] = []
    if department is None:
        gaps = await store.policies.unanswered(start, end, top)
        unanswered = [(short(mask_pii(q.key), 40), q.count) for q in gaps]
    elif not asked:
        return None
    return texts.render(REPORT, policies={"asked": asked, "unanswered": unanswered})
