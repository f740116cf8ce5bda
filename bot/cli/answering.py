"""Commands about understanding and answering: check, ask, match, eval."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from bot.settings import Settings


def register(sub: Any) -> None:
    p = sub.add_parser("check", help="校验知识库、对话规则和模板，并渲染每个条目")
    p.set_defaults(run=cmd_check)
    p = sub.add_parser("ask", help="回答一个问题并打印")
    p.add_argument("question", nargs="+")
    p.add_argument("--html", action="store_true", help="打印 Telegram HTML 原文")
    p.set_defaults(run=cmd_ask)
    p = sub.add_parser("match", help="逐行读入问题，输出 JSON 理解结果")
    p.add_argument("--jsonl", action="store_true", help="输出 JSON Lines（契约格式）")
    p.set_defaults(run=cmd_match)
    p = sub.add_parser("eval", help="在标注问题集上评测")
    p.add_argument("file")
    p.add_argument("--json", action="store_true")
    p.add_argument("--errors", action="store_true", help="列出每个错误")
    p.set_defaults(run=cmd_eval)


def _answering(settings: Settings):  # noqa: ANN202 - the lazy import keeps start-up light
    from bot.app import DataPaths, load_answering

    return load_answering(DataPaths.resolve(settings))


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import DataPaths, load_policies
    from bot.core.answering.render import ASPECT_LABELS
    from bot.core.knowledge import KnowledgeError
    from bot.core.texts import Texts
    from bot.core.tickets.samples import check_texts

    paths = DataPaths.resolve(settings)
    try:
        answering = _answering(settings)
        policies = load_policies(answering.kb)  # sla.yaml and calendar.yaml
    except KnowledgeError as exc:
        print(exc, file=sys.stderr)
        return 1
    kb, renderer = answering.kb, answering.renderer
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
    texts = check_texts(Texts(paths.templates), policies)
    problems += texts.problems
    if problems:
        print("模板渲染失败：\n" + "\n".join(f"  - {p}" for p in problems), file=sys.stderr)
        return 1
    print(
        f"知识库校验通过（{paths.knowledge}）：事项 {len(kb.items)} 个，一件事 {len(kb.bundles)} 个，"
        f"免证明 {len(kb.exemptions)} 个，部门 {len(kb.departments)} 个，"
        f"诉求类别 {len(kb.appeal_categories)} 个；已渲染 {rendered} 个回答、{texts.rendered} 条诉求和提示文本。"
    )
    print(calendar_status(policies.calendar, dt.datetime.now(settings.timezone).year))
    return 0


def calendar_status(calendar: Any, year: int) -> str:
    """Which of this year and next the working calendar has officially, for whoever maintains calendar.yaml."""
    parts = []
    for y in (year, year + 1):
        if calendar.is_official(y):
            parts.append(f"{y} 年为国务院正式安排")
        else:
            parts.append(f"{y} 年暂按放假办法推算（时限标注“暂定”，正式安排公布后请补充到 calendar.yaml）")
    return "工作日历：" + "；".join(parts) + "。"


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import running
    from bot.core.messages import Incoming
    from bot.core.text.markup import html_to_text

    async def go() -> int:
        async with running(settings, tickets=False) as app:
            for reply in await app.assistant.handle(Incoming("cli", "cli", text=" ".join(args.question))):
                print(reply.html if args.html else html_to_text(reply.html))
                labels = [b.label for row in reply.buttons for b in row]
                if labels:
                    print("［" + " | ".join(labels) + "］")
        return 0

    return asyncio.run(go())


def cmd_match(args: argparse.Namespace, settings: Settings) -> int:
    from bot.core.tickets.classify import classify

    m = _answering(settings).matcher
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


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from bot.core.answering.evaluate import evaluate, read_jsonl

    rep = evaluate(_answering(settings).matcher, read_jsonl(Path(args.file)))
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
