"""Commands about tickets: `python -m bot digest …` and `python -m bot tickets list|show|export …`.

They read an existing ticket database (never create one) and the knowledge base for names and SLA policies.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import sys
from html import unescape
from typing import Any

from bot.core.text.markup import html_to_text
from bot.core.text.unicode import encodable
from bot.core.tickets.domain.models import STATES
from bot.settings import Settings

from . import inputs


def _db_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", default=None, help="诉求数据库路径（默认环境变量 DATABASE_PATH 或 data/zwfw.db）")


def register(subparsers: Any) -> None:
    d = subparsers.add_parser("digest", help="打印诉求日报或周/月通报")
    d.add_argument("--date", default=None, help="按该日发送的日报统计（YYYY-MM-DD，默认今天）")
    d.add_argument("--period", choices=["day", "week", "month"], default="day")
    d.add_argument("--department", default=None, help="只看一个部门（默认全部门）")
    d.add_argument("--html", action="store_true", help="输出 Telegram HTML 原文")
    _db_arg(d)
    d.set_defaults(run=run_digest)

    t = subparsers.add_parser("tickets", help="查看或导出诉求")
    tsub = t.add_subparsers(dest="tickets_command", required=True)
    ls = tsub.add_parser("list", help="列出诉求（电话和证件号已脱敏）")
    ls.add_argument("--state", default=None, choices=STATES, help="待受理 / 办理中 / 已办结 / 已关闭")
    ls.add_argument("--department", default=None)
    ls.add_argument("--limit", type=inputs.positive_int, default=50)
    _db_arg(ls)
    sh = tsub.add_parser("show", help="显示一件诉求及其办理记录")
    sh.add_argument("number", help="诉求编号，如 SQ20261122-0007")
    _db_arg(sh)
    ex = tsub.add_parser("export", help="导出全部诉求")
    ex.add_argument(
        "--format",
        choices=["csv", "xlsx", "jsonl"],
        required=True,
        help="csv（带 BOM 的 UTF-8，Excel 可直接打开）、xlsx（Excel 工作簿，须用 --output）或 jsonl；"
        "表格中以 = + - @ 开头的内容会加单引号，不会被当作公式执行",
    )
    ex.add_argument("--output", "-o", default=None, help="输出文件（默认标准输出；xlsx 必须指定）")
    ex.add_argument("--mask", action="store_true", help="导出时对电话和证件号脱敏")
    _db_arg(ex)
    t.set_defaults(run=run_tickets)


def _kb(settings: Settings) -> Any:
    from bot.app import DataPaths
    from bot.core.knowledge import load_knowledge

    return load_knowledge(DataPaths.resolve(settings).knowledge)


def _policies(kb: Any) -> Any:
    from bot.app import load_policies

    return load_policies(kb)


def load_workflow(kb: Any) -> Any:
    from bot.app import load_workflow as load

    return load(kb)


def _texts(settings: Settings) -> Any:
    """The texts of the configured templates folder."""
    from bot.app import DataPaths
    from bot.core.texts import Texts

    return Texts(DataPaths.resolve(settings).templates)


def _views(settings: Settings, policies: Any) -> Any:
    from bot.core.clock import SystemClock
    from bot.core.tickets.views import TicketViews

    return TicketViews(_texts(settings), policies, SystemClock(settings.timezone))


async def _open(settings: Settings) -> Any:
    from bot.app import StartupError, database_target, open_store
    from bot.core.clock import SystemClock

    path = database_target(settings).path
    if path is not None and not path.exists():
        raise StartupError(f"找不到诉求数据库 {path}，请用 --db 指定。")
    return await open_store(settings, SystemClock(settings.timezone))


def run_digest(args: argparse.Namespace, settings: Settings) -> int:
    from bot.core.tickets.reporting.digest import build_digest

    if args.date:
        try:
            day = inputs.day("日期", args.date)
        except inputs.BadInput as exc:
            print(exc, file=sys.stderr)
            return 2
        now = dt.datetime.combine(day, settings.digest_time, tzinfo=settings.timezone)
    else:
        now = dt.datetime.now(settings.timezone)
    kb = _kb(settings)
    department = args.department
    if department:
        found = kb.department(department)
        if found is None:
            print(f"没有名为「{department}」的部门，可选：{'、'.join(kb.departments)}。", file=sys.stderr)
            return 2
        department = found.name

    async def go() -> int:
        store = await _open(settings)
        try:
            policies = _policies(kb)
            reply = await build_digest(
                store,
                now=now,
                period=args.period,
                department=department,
                kb=kb,
                policies=policies,
                texts=_texts(settings),
                workflow=load_workflow(kb),
                review_days=settings.knowledge_review_days,
            )
        finally:
            await store.close()
        print(reply.html if args.html else html_to_text(reply.html))
        return 0

    return asyncio.run(go())


def run_tickets(args: argparse.Namespace, settings: Settings) -> int:
    if args.tickets_command == "export":
        if args.format == "xlsx" and not args.output:
            print("xlsx 是二进制文件，请用 --output 指定文件名，如 --output 诉求.xlsx。", file=sys.stderr)
            return 2
        if not args.output:
            try:
                return asyncio.run(_export(args, settings, sys.stdout))
            except BrokenPipeError:  # e.g. piped into head
                sys.stderr.close()
                return 0
        try:
            return asyncio.run(_export(args, settings, None))
        except OSError as exc:  # a folder that does not exist, no permission, a full disk
            print(f"无法写入导出文件 {args.output}：{exc.strerror or exc}。", file=sys.stderr)
            return 2
    return asyncio.run({"list": _list, "show": _show}[args.tickets_command](args, settings))


async def _list(args: argparse.Namespace, settings: Settings) -> int:
    from bot.core.tickets.domain.models import TicketQuery
    from bot.core.tickets.views import summary

    views = _views(settings, _policies(_kb(settings)))
    store = await _open(settings)
    try:
        query = TicketQuery(
            states=(args.state,) if args.state else None,
            departments=(args.department,) if args.department else None,
            limit=args.limit,
        )
        total = await store.tickets.count(query)
        names = {m.user_id: m.name for m in await store.staff.list()}
        for t in await store.tickets.list(query):
            nxt = unescape(views.next_deadline(t))
            print(
                f"{t.number}  {t.state}  {t.department}  {names.get(t.handler or '', t.handler or '未认领')}  "
                f"{unescape(summary(t, 30))}" + (f"  ［{nxt}］" if nxt else "")
            )
        print(f"共 {total} 件" + (f"，显示 {args.limit} 件" if total > args.limit else ""))
    finally:
        await store.close()
    return 0


async def _show(args: argparse.Namespace, settings: Settings) -> int:
    views = _views(settings, _policies(_kb(settings)))
    store = await _open(settings)
    try:
        number = encodable(args.number).strip().upper()  # argv may carry undecodable bytes
        ticket = await store.tickets.get(number)
        if ticket is None:
            print(f"没有找到诉求 {number}。", file=sys.stderr)
            return 1
        names = {m.user_id: m.name for m in await store.staff.list()}
        files = [a.media for a in await store.attachments.of_ticket(ticket.id)]
        html = views.staff_card(ticket, names.get(ticket.handler or ""), group=False, attachments=files)
        events = await store.tickets.events(ticket.id)
        html += "\n办理记录\n" + views.history(events, names, limit=1000, citizen_id=ticket.citizen_id)
        print(html_to_text(html))
    finally:
        await store.close()
    return 0


async def _export(args: argparse.Namespace, settings: Settings, out: Any) -> int:
    """Every ticket to `out`, or (out None) to the file args.output, opened once the database is open, so a
    missing database leaves no empty file behind."""
    from bot.core.tickets.domain.models import TicketQuery
    from bot.core.tickets.reporting.export import Export

    store = await _open(settings)
    try:
        with contextlib.ExitStack() as files:
            if out is None and args.format != "xlsx":
                # a command-line tool: nothing else runs on this loop, so the blocking open is harmless
                out = files.enter_context(open(args.output, "w", encoding="utf-8", newline=""))  # noqa: ASYNC230, SIM115
            # xlsx: the workbook is written to the path when it is closed
            export = Export(args.format, out if out is not None else args.output, args.mask)
            after = 0
            while True:
                batch = await store.tickets.list(TicketQuery(after_id=after, newest_first=False, limit=1000))
                if not batch:
                    break
                attached = await store.attachments.of_tickets([t.id for t in batch])
                export.add(batch, attached)
                after = batch[-1].id
            export.close()
            count = export.count
    finally:
        await store.close()
    if args.output:
        print(f"已导出到 {args.output}，共 {count} 件诉求", file=sys.stderr)
    return 0
