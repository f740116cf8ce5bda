"""Command line: python -m bot chat|ask|match|eval|check|run|digest|tickets."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from bot.core.clock import DEFAULT_TZ
from bot.core.knowledge import KnowledgeError, load_knowledge


def _matcher(args: argparse.Namespace):
    from bot.core.matching.matcher import Matcher

    return Matcher(load_knowledge(args.knowledge))


def cmd_check(args: argparse.Namespace) -> int:
    from bot.core.assistant import checked_policies
    from bot.core.matching.cues import load_cues
    from bot.core.render import ASPECT_LABELS, Renderer

    kb = load_knowledge(args.knowledge)
    calendar = checked_policies(kb).calendar  # sla.yaml and calendar.yaml
    load_cues()
    renderer = Renderer(kb)
    rendered = 0
    problems = []
    for entry in kb.entries.values():
        aspects = [None] if entry.kind == "exemption" else list(ASPECT_LABELS)
        for aspect in aspects:
            try:
                renderer.answer(entry, aspect)
                rendered += 1
            except Exception as exc:  # report every template problem, not just the first
                problems.append(f"{entry.id} / {aspect}: {type(exc).__name__}: {exc}")
    if problems:
        print("模板渲染失败：\n" + "\n".join(f"  - {p}" for p in problems), file=sys.stderr)
        return 1
    print(
        f"知识库校验通过：事项 {len(kb.items)} 个，一件事 {len(kb.bundles)} 个，"
        f"免证明 {len(kb.exemptions)} 个，部门 {len(kb.departments)} 个，"
        f"诉求类别 {len(kb.appeal_categories)} 个；已渲染 {rendered} 个回答。"
    )
    print(calendar_status(calendar, dt.datetime.now(DEFAULT_TZ).year))
    return 0


def calendar_status(calendar, year: int) -> str:  # noqa: ANN001 - a WorkingCalendar
    """Which of this year and next the working calendar has officially, for whoever maintains calendar.yaml."""
    parts = []
    for y in (year, year + 1):
        if calendar.is_official(y):
            parts.append(f"{y} 年为国务院正式安排")
        else:
            parts.append(f"{y} 年暂按放假办法推算（时限标注“暂定”，正式安排公布后请补充到 calendar.yaml）")
    return "工作日历：" + "；".join(parts) + "。"


def _core_config(args: argparse.Namespace):
    from bot.core.assistant import CoreConfig

    cfg = CoreConfig()
    if args.knowledge:
        cfg.knowledge_dir = Path(args.knowledge)
    if getattr(args, "db", None):
        cfg.database_path = args.db
    return cfg


def cmd_chat(args: argparse.Namespace) -> int:
    import asyncio

    from bot.adapters.console import run_console

    return asyncio.run(run_console(_core_config(args)))


def cmd_ask(args: argparse.Namespace) -> int:
    import asyncio

    from bot.core.assistant import Assistant
    from bot.core.messages import Incoming
    from bot.core.text.markup import html_to_text

    async def go() -> int:
        a = await Assistant.create(_core_config(args), with_tickets=False)
        for reply in await a.handle(Incoming("cli", "cli", text=" ".join(args.question))):
            print(reply.html if args.html else html_to_text(reply.html))
            labels = [b.label for row in reply.buttons for b in row]
            if labels:
                print("［" + " | ".join(labels) + "］")
        return 0

    return asyncio.run(go())


def cmd_run(args: argparse.Namespace) -> int:
    from bot.config import ConfigError, Settings

    try:
        settings = Settings.load()
    except ConfigError as exc:
        print(f"配置错误：{exc}", file=sys.stderr)
        return 2
    from bot.adapters.telegram import run

    run(settings)
    return 0


def cmd_match(args: argparse.Namespace) -> int:
    from bot.core.tickets.classify import classify

    m = _matcher(args)
    for line in sys.stdin:
        text = line.rstrip("\n")
        if args.jsonl and text.strip().startswith("{"):
            try:
                text = json.loads(text).get("text", "")
            except json.JSONDecodeError:
                pass
        out = m.understand(text).as_contract()
        if out["intent"] == "appeal":
            ranked = classify(text, m.kb)
            out["category"] = ranked[0][0] if ranked else "其他"
        print(json.dumps(out, ensure_ascii=False), flush=True)
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from bot.core.matching.evaluate import evaluate, read_jsonl

    rep = evaluate(_matcher(args), read_jsonl(Path(args.file)))
    if args.json:
        print(json.dumps(rep.as_dict(), ensure_ascii=False, indent=2))
    else:
        print(rep.render())
    if args.errors:
        for row, u in rep.errors:
            print(
                f"- {row['text']} | want {row['intent']}/{row.get('target')}/{row.get('aspect')}"
                f" | got {u.intent}/{u.target}/{u.aspect} {u.score:.2f} | {u.corrected}"
            )
    return 0


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m bot", description="政务服务助手")
    ap.add_argument("--knowledge", default=None, help="知识库目录（默认 knowledge/）")
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("check", help="校验知识库并渲染每个条目")
    p = sub.add_parser("chat", help="在终端里与助手对话（无需 Telegram）")
    p.add_argument("--db", default=None, help="诉求数据库路径（默认 data/zwfw.db）")
    p = sub.add_parser("ask", help="回答一个问题并打印")
    p.add_argument("question", nargs="+")
    p.add_argument("--html", action="store_true", help="打印 Telegram HTML 原文")
    sub.add_parser("run", help="启动 Telegram 机器人（读取 .env）")
    p = sub.add_parser("match", help="逐行读入问题，输出 JSON 理解结果")
    p.add_argument("--jsonl", action="store_true", help="输出 JSON Lines（契约格式）")
    p = sub.add_parser("eval", help="在标注问题集上评测")
    p.add_argument("file")
    p.add_argument("--json", action="store_true")
    p.add_argument("--errors", action="store_true", help="列出每个错误")
    return ap


COMMANDS = {
    "check": cmd_check,
    "match": cmd_match,
    "eval": cmd_eval,
    "chat": cmd_chat,
    "ask": cmd_ask,
    "run": cmd_run,
}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        from bot import cli_tickets
    except ImportError:  # ticket commands are optional until that package is present
        cli_tickets = None
    if cli_tickets is not None:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        COMMANDS.update(cli_tickets.register(sub))
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except KnowledgeError as exc:
        print(exc, file=sys.stderr)
        return 1
