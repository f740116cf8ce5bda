"""`python -m bot sla deadlines --start "2026-12-20 10:00" [--policy P] [--category C] [--priority urgent]
[--type T] [--tier T]`: each milestone's deadline as an ISO date-time, marked 暂定 where it counts through a
provisional year."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bot.settings import Settings

from . import inputs


def register(sub: Any) -> None:
    s = sub.add_parser("sla", help="办理时限工具")
    ssub = s.add_subparsers(dest="sla_command", required=True)
    dl = ssub.add_parser("deadlines", help="计算各环节的截止时间（按知识库的 sla.yaml 和 calendar.yaml）")
    dl.add_argument("--start", required=True, help='起算时间，如 "2026-12-20 10:00"（默认为配置的时区）')
    dl.add_argument("--policy", default=None, help="时限策略名（见 sla.yaml）；不写则按类别和优先级选择")
    dl.add_argument("--category", default="", help="诉求类别，用于选择时限策略")
    dl.add_argument("--priority", default="normal", help="normal（普通，默认）或 urgent（紧急）")
    dl.add_argument(
        "--type", default=None, help="诉求类型（咨询、求助、投诉、建议、举报、表扬，见 sla.yaml）"
    )
    dl.add_argument("--tier", default=None, help="紧急程度分级（见 sla.yaml 的 tiers）；不写则按优先级选择")
    dl.set_defaults(run=run_deadlines)


def _bad_input(message: str) -> int:
    print(message, file=sys.stderr)
    return 2


def run_deadlines(args: argparse.Namespace, settings: Settings) -> int:
    """One line per milestone: its name, its deadline as an ISO date-time, and 暂定 when provisional."""
    from bot.app import DataPaths, load_policies
    from bot.core.knowledge import load_knowledge
    from bot.core.tickets.domain.models import PRIORITIES
    from bot.core.tickets.domain.sla import MILESTONES, POLICY_MILESTONES

    try:
        start = inputs.moment("起算时间", args.start, settings.timezone)
    except inputs.BadInput as exc:
        return _bad_input(str(exc))
    if args.priority not in PRIORITIES:
        return _bad_input(f"优先级「{args.priority}」无效，可选 normal（普通）或 urgent（紧急）。")
    kb = load_knowledge(DataPaths.resolve(settings).knowledge)
    policies = load_policies(kb)
    categories = kb.appeal_categories
    if args.policy is not None and args.policy not in policies.policies:
        return _bad_input(f"没有名为「{args.policy}」的时限策略，可选：{'、'.join(policies.policies)}。")
    if args.category and categories and args.category not in categories:
        return _bad_input(f"没有名为「{args.category}」的诉求类别，可选：{'、'.join(categories)}。")
    if args.type is not None and args.type not in policies.types:
        return _bad_input(
            f"没有名为「{args.type}」的诉求类型，可选：{'、'.join(policies.types) or '（未定义）'}。"
        )
    if args.tier is not None and args.tier not in policies.tiers:
        return _bad_input(f"没有名为「{args.tier}」的紧急程度分级，可选：{'、'.join(policies.tiers)}。")
    policy = policies.get(args.policy) if args.policy else policies.select(args.category, args.priority)
    tier = args.tier or policies.tier_of("", args.priority)
    deadlines = policies.deadlines(policy, start, MILESTONES, appeal_type=args.type, tier=tier)
    # the policy's milestones first (the order this command has always printed), then signing (签收)
    for m in (*POLICY_MILESTONES, *(m for m in MILESTONES if m not in POLICY_MILESTONES)):
        mark = "\t暂定" if m in deadlines.provisional else ""
        print(f"{m}\t{deadlines.due[m].isoformat()}{mark}")
    return 0
