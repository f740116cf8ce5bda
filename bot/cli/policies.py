"""`python -m bot policies --profile '{"规模": "小微", "行业": "软件和信息技术服务业", ...}'` (or `--text
"我们是做软件的小微企业"`): the policies in force that the enterprise qualifies for (符合) and, with --possible,
may qualify for once something is confirmed (可能符合), best first, one JSON object a line with the reasons,
so that matching can be evaluated. `--why ID` explains one policy, whatever its status.

Exit codes: 0 listed; 1 the profile is contradictory (a stated size its numbers rule out: questioned, not
guessed) or names an unknown policy; 2 the profile cannot be read (bad JSON, an unknown industry: the nearest
sections are named).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import TYPE_CHECKING, Any

from bot.settings import Settings

if TYPE_CHECKING:
    from bot.core.policies.match import Match
    from bot.core.policies.texts import PolicyTexts

STATUS = {2: "符合", 1: "可能符合", 0: "不符合"}


def register(sub: Any) -> None:
    p = sub.add_parser("policies", help="惠企政策匹配：按企业画像输出符合的政策及理由（JSON Lines）")
    given = p.add_mutually_exclusive_group(required=True)
    given.add_argument(
        "--profile",
        help='企业画像 JSON，如 \'{"规模": "小微", "行业": "软件和信息技术服务业", "属地": "示例区"}\'',
    )
    given.add_argument("--text", help="一句话描述企业情况，如“我们是做软件的小微企业”，先抽取画像再匹配")
    p.add_argument("--possible", action="store_true", help="同时输出“可能符合”（还需确认条件）的政策")
    p.add_argument("--why", metavar="ID", help="只解释这一项政策：符合、不符合（哪个条件）或还需确认什么")
    p.add_argument("--date", help="按哪一天判断有效期（YYYY-MM-DD，默认今天）")
    p.set_defaults(run=run_policies)


def _fail(message: str, code: int) -> int:
    print(message, file=sys.stderr)
    return code


def run_policies(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import DataPaths
    from bot.core.knowledge import load_knowledge
    from bot.core.policies.engine import PolicyEngine
    from bot.core.policies.extract import load_policy_cues
    from bot.core.policies.profile import Profile, ProfileError, size_words
    from bot.core.policies.texts import PolicyTexts
    from bot.core.texts import Texts

    paths = DataPaths.resolve(settings)
    try:
        today = dt.date.fromisoformat(args.date) if args.date else dt.datetime.now(settings.timezone).date()
    except ValueError:
        return _fail(f"日期「{args.date}」无法识别，请写成 YYYY-MM-DD，如 2026-11-26。", 2)
    library = load_knowledge(paths.knowledge).policies
    if not library:
        return _fail(f"知识库（{paths.knowledge}）中没有政策库（policies/ 目录）。", 2)
    if args.text is not None:
        from bot.core.policies.extract import ProfileExtractor

        profile = ProfileExtractor(library, load_policy_cues(paths.intents)).extract(args.text, today).profile
        if profile.is_empty():
            return _fail(f"没能从“{args.text}”中读出企业情况（行业、规模、属地、成立时间等）。", 2)
    else:
        try:
            data = json.loads(args.profile)
        except json.JSONDecodeError as exc:
            return _fail(f"--profile 不是合法的 JSON（第 {exc.colno} 个字符附近）：{exc.msg}", 2)
        if not isinstance(data, dict):
            return _fail('--profile 应为 JSON 对象，如 {"规模": "小微", "行业": "65"}', 2)
        try:
            profile = Profile.from_json(data, library)
        except ProfileError as exc:
            return _fail(f"企业画像有误：{exc}", 2)
    view = profile.view(library, today)
    if view.conflict is not None:
        indicated = size_words(view.indicated or view.derived_sizes)
        return _fail(
            f"企业画像自相矛盾：规模写的是“{size_words(profile.sizes)}”，但按填写的人数、营业收入或资产总额，"
            f"依照《统计上大中小微型企业划分办法（2017）》一般属于“{indicated}”。请改正规模或数字后再试；"
            '确认无误时可加上 "规模已确认": true。',
            1,
        )
    engine = PolicyEngine(library, settings.policy_expiring_days)
    words = PolicyTexts(Texts(paths.templates), library)
    if args.why is not None:
        policy = library.get(args.why)
        if policy is None:
            return _fail(f"政策库中没有编号为「{args.why}」的政策。", 1)
        matches = [engine.explain(policy, view)]
    else:
        matches = engine.match(view, possible=args.possible)
    for m in matches:
        print(json.dumps(_line(m, words), ensure_ascii=False))
    return 0


def _line(m: Match, words: PolicyTexts) -> dict[str, Any]:
    p = m.policy
    out: dict[str, Any] = {
        "id": p.id,
        "name": p.name,
        "status": STATUS[m.status],
        "department": p.department,
        "amount": p.amount,
        "claim": p.claim.mode,
        "reasons": words.reasons(m.met),
    }
    if m.unknown:
        out["to_confirm"] = words.reasons(m.unknown)
    if m.failed:
        out["failed"] = words.reasons(m.failed)
    if p.valid.end is not None:
        out["valid_until"] = p.valid.end.isoformat()
    if m.expiring:
        out["days_left"] = m.days_left
    return out
