"""Command line for tickets: `python -m bot digest …`, `python -m bot tickets list|show|export …` and
`python -m bot sla deadlines …`.

`register(subparsers)` adds the commands and returns {name: run function}; bot/cli.py calls it.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import datetime as dt
import json
import os
import re
import sys
from html import unescape
from pathlib import Path
from typing import Any

from bot.core.clock import DEFAULT_TZ

DEFAULT_DB = "data/zwfw.db"
EXPORT_FIELDS = [
    "number",
    "state",
    "category",
    "department",
    "priority",
    "policy",
    "citizen_id",
    "anonymous",
    "description",
    "place",
    "phone",
    "handler",
    "created_at",
    "contact_due",
    "contact_met",
    "feedback_due",
    "feedback_met",
    "resolve_due",
    "resolve_met",
    "round",
    "resolution",
    "rating",
    "comment",
    "rated_at",
    "closed_at",
]


def _db_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", default=None, help=f"诉求数据库路径（默认环境变量 DATABASE_PATH 或 {DEFAULT_DB}）")


def register(subparsers: Any) -> dict[str, Any]:
    d = subparsers.add_parser("digest", help="打印诉求日报或周/月通报")
    d.add_argument("--date", default=None, help="按该日发送的日报统计（YYYY-MM-DD，默认今天）")
    d.add_argument("--period", choices=["day", "week", "month"], default="day")
    d.add_argument("--department", default=None, help="只看一个部门（默认全部门）")
    d.add_argument("--html", action="store_true", help="输出 Telegram HTML 原文")
    _db_arg(d)

    t = subparsers.add_parser("tickets", help="查看或导出诉求")
    tsub = t.add_subparsers(dest="tickets_command", required=True)
    ls = tsub.add_parser("list", help="列出诉求（电话和证件号已脱敏）")
    ls.add_argument("--state", default=None, help="待受理 / 办理中 / 已办结 / 已关闭")
    ls.add_argument("--department", default=None)
    ls.add_argument("--limit", type=int, default=50)
    _db_arg(ls)
    sh = tsub.add_parser("show", help="显示一件诉求及其办理记录")
    sh.add_argument("number", help="诉求编号，如 SQ20261122-0007")
    _db_arg(sh)
    ex = tsub.add_parser("export", help="导出全部诉求")
    ex.add_argument("--format", choices=["csv", "jsonl"], required=True)
    ex.add_argument("--output", "-o", default=None, help="输出文件（默认标准输出）")
    ex.add_argument("--mask", action="store_true", help="导出时对电话和证件号脱敏")
    _db_arg(ex)

    s = subparsers.add_parser("sla", help="办理时限工具")
    ssub = s.add_subparsers(dest="sla_command", required=True)
    dl = ssub.add_parser("deadlines", help="计算各环节的截止时间（按知识库的 sla.yaml 和 calendar.yaml）")
    dl.add_argument("--start", required=True, help='起算时间，如 "2026-12-20 10:00"（默认北京时间）')
    dl.add_argument("--policy", default=None, help="时限策略名（见 sla.yaml）；不写则按类别和优先级选择")
    dl.add_argument("--category", default="", help="诉求类别，用于选择时限策略")
    dl.add_argument("--priority", default="normal", help="normal（普通，默认）或 urgent（紧急）")
    return {"digest": run_digest, "tickets": run_tickets, "sla": run_sla}


def _db_path(args: argparse.Namespace) -> str:
    return args.db or os.environ.get("DATABASE_PATH") or DEFAULT_DB


def _plain(html: str) -> str:
    try:
        from bot.core.text.markup import html_to_text

        return html_to_text(html)
    except ImportError:  # the console adapter is optional here
        return unescape(re.sub(r"<[^>]+>", "", html))


def _load_kb(args: argparse.Namespace) -> Any:
    try:
        from bot.core.knowledge import load_knowledge

        return load_knowledge(getattr(args, "knowledge", None))
    except Exception as exc:  # the digest works without item names; say so
        print(f"（未能加载知识库，事项按编号显示：{str(exc).splitlines()[0]}）", file=sys.stderr)
        return None


def _policies(kb: Any) -> Any:
    """The SLA policies and working calendar of the loaded knowledge base (the shipped ones without it)."""
    from bot.core.tickets.sla import load_policies, policies_from_kb

    return policies_from_kb(kb) if kb is not None else load_policies()


async def _open(args: argparse.Namespace):
    from bot.core.tickets import open_sqlite_store

    return await open_sqlite_store(_db_path(args))


def _missing_db(args: argparse.Namespace) -> int:
    print(f"找不到诉求数据库 {_db_path(args)}，请用 --db 指定。", file=sys.stderr)
    return 1


def run_digest(args: argparse.Namespace) -> int:
    from bot.core.tickets import build_digest

    if args.date:
        try:
            day = dt.date.fromisoformat(args.date)
        except ValueError:
            print(f"日期「{args.date}」格式应为 YYYY-MM-DD。", file=sys.stderr)
            return 2
        now = dt.datetime.combine(day, dt.time(8, 30), tzinfo=DEFAULT_TZ)
    else:
        now = dt.datetime.now(DEFAULT_TZ)
    kb = _load_kb(args)

    if not Path(_db_path(args)).exists():
        return _missing_db(args)

    async def go() -> int:
        store = await _open(args)
        try:
            policies = _policies(kb)
            department = args.department
            if department and kb is not None and kb.department(department) is not None:
                department = kb.department(department).name
            reply = await build_digest(
                store, now=now, period=args.period, department=department, kb=kb, policies=policies
            )
        finally:
            await store.close()
        print(reply.html if args.html else _plain(reply.html))
        return 0

    return asyncio.run(go())


def _parse_start(text: str) -> dt.datetime | None:
    try:
        start = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return start if start.tzinfo else start.replace(tzinfo=DEFAULT_TZ)


def _bad_input(message: str) -> int:
    print(message, file=sys.stderr)
    return 2


def run_sla(args: argparse.Namespace) -> int:
    """One line per milestone: its name, its deadline as an ISO date-time, and 暂定 when provisional."""
    from bot.core.assistant import checked_policies
    from bot.core.knowledge import load_knowledge
    from bot.core.tickets.models import PRIORITIES
    from bot.core.tickets.sla import MILESTONES

    start = _parse_start(args.start)
    if start is None:
        return _bad_input(
            f'起算时间「{args.start}」无法识别，请写成 YYYY-MM-DD HH:MM，例如 "2026-12-20 10:00"。'
        )
    if args.priority not in PRIORITIES:
        return _bad_input(f"优先级「{args.priority}」无效，可选 normal（普通）或 urgent（紧急）。")
    kb = load_knowledge(args.knowledge)
    policies = checked_policies(kb)
    categories = getattr(kb, "appeal_categories", {}) or {}
    if args.policy is not None and args.policy not in policies.policies:
        return _bad_input(f"没有名为「{args.policy}」的时限策略，可选：{'、'.join(policies.policies)}。")
    if args.category and categories and args.category not in categories:
        return _bad_input(f"没有名为「{args.category}」的诉求类别，可选：{'、'.join(categories)}。")
    policy = policies.get(args.policy) if args.policy else policies.select(args.category, args.priority)
    deadlines = policies.deadlines(policy, start)
    for m in MILESTONES:
        mark = "\t暂定" if m in deadlines.provisional else ""
        print(f"{m}\t{deadlines.due[m].isoformat()}{mark}")
    return 0


def run_tickets(args: argparse.Namespace) -> int:
    if not Path(_db_path(args)).exists():
        return _missing_db(args)
    if args.tickets_command == "export":
        if not args.output:
            try:
                return asyncio.run(_export(args, sys.stdout))
            except BrokenPipeError:  # e.g. piped into head
                sys.stderr.close()
                return 0
        with open(args.output, "w", encoding="utf-8", newline="") as out:
            code = asyncio.run(_export(args, out))
        print(f"已导出到 {args.output}", file=sys.stderr)
        return code
    return asyncio.run({"list": _list, "show": _show}[args.tickets_command](args))


async def _list(args: argparse.Namespace) -> int:
    from bot.core.tickets import views
    from bot.core.tickets.models import TicketQuery

    policies = _policies(_load_kb(args))
    store = await _open(args)
    try:
        query = TicketQuery(
            states=(args.state,) if args.state else None,
            departments=(args.department,) if args.department else None,
            limit=args.limit,
        )
        total = await store.count_tickets(query)
        names = {m.user_id: m.name for m in await store.list_staff()}
        for t in await store.list_tickets(query):
            nxt = views.next_deadline(t, policies)
            print(
                f"{t.number}  {t.state}  {t.department}  {names.get(t.handler or '', t.handler or '未认领')}  "
                f"{unescape(views.summary(t, 30))}" + (f"  ［{nxt}］" if nxt else "")
            )
        print(f"共 {total} 件" + (f"，显示 {args.limit} 件" if total > args.limit else ""))
    finally:
        await store.close()
    return 0


async def _show(args: argparse.Namespace) -> int:
    from bot.core.tickets import views

    policies = _policies(_load_kb(args))
    store = await _open(args)
    try:
        number = args.number.strip().upper()
        ticket = await store.get_ticket(number)
        if ticket is None:
            print(f"没有找到诉求 {number}。", file=sys.stderr)
            return 1
        names = {m.user_id: m.name for m in await store.list_staff()}
        html = views.staff_card(ticket, names.get(ticket.handler or ""), policies=policies, group=False)
        html += "\n办理记录\n" + "\n".join(
            views.history_lines(
                await store.events(ticket.id), names, limit=1000, citizen_id=ticket.citizen_id
            )
        )
        print(_plain(html))
    finally:
        await store.close()
    return 0


def _export_row(t: Any, mask: bool) -> dict[str, Any]:
    from bot.core.tickets.mask import mask_phone, mask_pii

    row: dict[str, Any] = {}
    for f in EXPORT_FIELDS:
        v = getattr(t, f)
        if isinstance(v, dt.datetime):
            v = v.isoformat()
        if mask and f in {"description", "place", "resolution", "comment"} and v:
            v = mask_pii(v)
        if mask and f == "phone" and v:
            v = mask_phone(v)
        row[f] = v
    return row


async def _export(args: argparse.Namespace, out: Any) -> int:
    from bot.core.tickets.models import TicketQuery

    store = await _open(args)
    try:
        writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS) if args.format == "csv" else None
        if writer:
            writer.writeheader()
        after = 0
        count = 0
        while True:
            batch = await store.list_tickets(TicketQuery(after_id=after, newest_first=False, limit=1000))
            if not batch:
                break
            for t in batch:
                row = _export_row(t, args.mask)
                if writer:
                    writer.writerow(row)
                else:
                    out.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += len(batch)
            after = batch[-1].id
        if args.output:
            print(f"共 {count} 件诉求", file=sys.stderr)
    finally:
        await store.close()
    return 0
