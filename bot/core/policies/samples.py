# mypy: disable-error-code="misc"
# (lambdas with default arguments, one per loop value, are not inferred by mypy; running the check checks them)
"""What `python -m bot check` renders of the 惠企政策 texts: every policy of the library explained against a few
contrasting enterprises (so every condition is said met, failed and still to confirm), the lists, a push with a
deadline close, every question and button the conversation shows, the profile views and the staff counts, so a
template that fails is found by check and not in a conversation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from bot.core.texts import Texts

from .engine import PolicyEngine
from .library import PolicyLibrary
from .match import Match
from .profile import SIZE_WORDS, Profile, size_words
from .texts import ASK, LIST, PROFILE, PUSH, REPORT, PolicyTexts

FIELDS = ("size", "industry", "place", "founded", "entity", "taxpayer", "conflict", None)
BUTTONS = (
    "skip", "more", "other_industry", "here", "elsewhere", "y0", "y1", "y3", "unsure", "why", "save",
    "keep_sub", "keep_only", "keep_no", "subscribe", "unsubscribe", "delete", "delete_yes", "list", "",
)  # fmt: skip


def sample_profiles(library: PolicyLibrary, today: dt.date) -> list[Profile]:
    """Three enterprises that between them meet, fail and leave open every kind of condition; the last one
    states a size its numbers contradict."""
    facts = sorted(library.facts)
    local = [p.name for p in library.places.values() if p.within]
    here = local[0] if local else "其他地区"
    small = {
        "主体类型": "企业", "行业": "65", "规模": "小微", "属地": here, "成立年份": today.year - 5,
        "纳税人类型": "一般纳税人", "从业人数": 25, "营业收入": 600, "资产总额": 800, "应纳税所得额": 80,
        "资质": [], **{f: True for f in facts[::2]},
    }  # fmt: skip
    large = {
        "主体类型": "企业", "行业": "C", "规模": "大型", "属地": "其他地区", "成立年份": today.year - 20,
        "纳税人类型": "一般纳税人", "从业人数": 3000, "营业收入": 900000, "资产总额": 800000,
        "资质": sorted(library.recognitions), **{f: False for f in facts},
    }  # fmt: skip
    shop = {"主体类型": "个体工商户", "行业": "62", "规模": "微型", "从业人数": 500, "成立年份": today.year}
    return [Profile.from_json(p, library) for p in (small, large, shop)]


def render_policy_samples(library: PolicyLibrary, texts: Texts, today: dt.date) -> tuple[int, list[str]]:
    """(how many texts were rendered, the problems: template, case and error)."""
    words = PolicyTexts(texts, library)
    engine = PolicyEngine(library)
    problems: list[str] = []
    count = 0

    def attempt(case: str, render: Callable[[], Any]) -> None:
        nonlocal count
        try:
            render()
            count += 1
        except Exception as exc:  # report every template problem, not just the first
            problems.append(f"{case}: {type(exc).__name__}: {exc}")

    ends = sorted(p.valid.end for p in library.policies.values() if p.valid.end and p.valid.end >= today)
    days = [today, *(ends[:1] and [ends[0] - dt.timedelta(days=3)])]  # one day with a deadline close
    for day in days:
        for n, profile in enumerate([Profile(), *sample_profiles(library, day)]):
            view = profile.view(library, day)
            matches = engine.match(view)
            attempt(f"{LIST} profile {n} {day}", lambda v=view, ms=matches: words.listing(v, ms, shown=6))
            attempt(
                f"{LIST} page 2 {day}", lambda v=view, ms=matches: words.listing(v, ms, shown=6, offset=6)
            )
            for policy in library.policies.values():
                m = engine.explain(policy, view)
                attempt(
                    f"explain {policy.id} profile {n}", lambda m=m, k=n > 0: words.explain(m, profile_known=k)
                )
            eligible = [m for m in matches if m.status == 2] or matches[:3]
            attempt(f"{PUSH} profile {n}", lambda e=eligible, d=day: _push(words, e, d))
    for field in FIELDS:
        attempt(
            f"{ASK} question {field}", lambda f=field: words.say(ASK, "question", field=f, known="规模：小微")
        )
        attempt(f"{ASK} not_understood {field}", lambda f=field: words.say(ASK, "not_understood", field=f))
    shop = sample_profiles(library, today)[-1]
    numbers = [{"key": "employees", "lo": 500, "hi": 500}, {"key": "revenue", "lo": 100, "hi": None}]
    attempt(
        f"{ASK} conflict",
        lambda: words.say(
            ASK,
            "conflict",
            stated=size_words(shop.sizes),
            indicated=size_words(SIZE_WORDS["中小"]),
            numbers=numbers,
        ),
    )
    for macro, kw in (("not_found", {}), ("expired", {}), ("unknown_industry", {"words": "直播带货"})):
        attempt(f"{ASK} {macro}", lambda m=macro, k=kw: words.say(ASK, m, **k))
    for kind in BUTTONS:
        attempt(f"{ASK} button {kind}", lambda k=kind: words.say(ASK, "button", kind=k, value="示例区"))
    lines = words.profile_lines(sample_profiles(library, today)[0])
    stamp = dt.datetime.combine(today, dt.time(10), tzinfo=dt.UTC)
    profile_cases: list[tuple[str, dict[str, Any]]] = [
        ("none_held", {}),
        ("range", {"lo": 2019, "hi": 2021}),
        ("consent", {}),
        *(("saved", {"subscribed": s}) for s in (True, False)),
        ("not_saved", {}),
        *(("view", {"lines": lines, "subscribed": s, "consented": stamp}) for s in (True, False)),
        ("empty", {}),
        ("updated", {}),
        ("not_understood", {"text": "随便说说"}),
        ("bad_value", {"problem": "成立年份「去年吧」应为年份，如 2021"}),
        ("confirm_delete", {}),
        *(("deleted", {"found": f}) for f in (True, False)),
        *(("unsubscribed", {"found": f}) for f in (True, False)),
        ("subscribed", {}),
        ("unavailable", {}),
        ("private_only", {}),
        ("staff_counts", _staff_sample(library)),
        (
            "staff_counts",
            {"counts": {"total": {"profiles": 0, "subscribed": 0}}, "top": [], "policy_names": {}},
        ),
    ]
    for macro, kw in profile_cases:
        attempt(f"{PROFILE} {macro}", lambda m=macro, k=kw: words.say(PROFILE, m, **k))
    first = next(iter(library.policies.values()), None)
    asked = [(first.name, first.department, 3)] if first else []
    report_samples: list[dict[str, Any]] = [
        {"asked": asked, "unanswered": [("直播带货有补贴吗", 2)]},
        {"asked": [], "unanswered": []},
    ]
    for policies in report_samples:
        attempt(f"{REPORT}", lambda p=policies: texts.render(REPORT, policies=p))
    return count, problems


def _push(words: PolicyTexts, matches: list[Match], day: dt.date) -> str:
    items = []
    for n, m in enumerate(matches):
        item = words.match_item(m, day)
        item["changed"] = n % 2 == 1
        items.append(item)
    return words.texts.render(PUSH, items=items)


def _staff_sample(library: PolicyLibrary) -> dict[str, Any]:
    from types import SimpleNamespace

    first = next(iter(library.policies.values()), None)
    top = (
        [SimpleNamespace(key=first.id, count=4), SimpleNamespace(key="removed-policy", count=1)]
        if first
        else []
    )
    return {
        "counts": {
            "total": {"profiles": 3, "subscribed": 2},
            "规模": {"小微": 2, "中型": 1},
            "行业": {"I 软件信息": 2},
            "属地": {"示例区": 3},
        },
        "top": top,
        "policy_names": {p.id: p.name for p in library.policies.values()},
    }
