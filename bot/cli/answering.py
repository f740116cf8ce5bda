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
    from bot.app import DataPaths, load_policies, load_routing, load_workflow
    from bot.core.answering.render import ASPECT_LABELS
    from bot.core.knowledge import KnowledgeError
    from bot.core.texts import Texts
    from bot.core.tickets.samples import check_texts

    paths = DataPaths.resolve(settings)
    try:
        answering = _answering(settings)
        policies = load_policies(answering.kb)  # sla.yaml and calendar.yaml
        load_workflow(answering.kb)  # workflow.yaml
        routing = load_routing(answering.kb, paths.knowledge)  # dispatch.yaml and places.yaml
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
    problems += _render_dialogue_templates(answering)
    texts = check_texts(Texts(paths.templates), policies)
    problems += texts.problems
    policy_texts = 0
    if kb.policies:
        from bot.core.policies.samples import render_policy_samples

        today = dt.datetime.now(settings.timezone).date()
        policy_texts, policy_problems = render_policy_samples(kb.policies, Texts(paths.templates), today)
        problems += policy_problems
    if problems:
        print("模板渲染失败：\n" + "\n".join(f"  - {p}" for p in problems), file=sys.stderr)
        return 1
    print(
        f"知识库校验通过（{paths.knowledge}）：事项 {len(kb.items)} 个，一件事 {len(kb.bundles)} 个，"
        f"免证明 {len(kb.exemptions)} 个，部门 {len(kb.departments)} 个，"
        f"诉求类别 {len(kb.appeal_categories)} 个；已渲染 {rendered} 个回答、{texts.rendered} 条诉求和提示文本。"
    )
    print(calendar_status(policies.calendar, dt.datetime.now(settings.timezone).year))
    if kb.policies:
        print(
            policy_library_status(kb.policies, dt.datetime.now(settings.timezone).date())
            + f"已渲染惠企政策文本 {policy_texts} 条。"
        )
    print(routing_status(routing))
    return 0


def policy_library_status(library: Any, today: dt.date) -> str:
    """One line about the 政策库 for whoever maintains knowledge/policies/."""
    from bot.core.policies.library import active

    current = active(library.policies.values(), today)
    return (
        f"政策库：政策 {len(library)} 条，现行有效 {len(current)} 条（其余已到期或尚未开始）；"
        f"行业代码 {len(library.industries.codes)} 个，企业划型行业组 {len(library.sizes.groups)} 个。"
    )


def routing_status(routing: Any) -> str:
    """The 派单目录 and places in figures, and the examples that the rules do not send to their own entry
    (worth a keyword: the example is how the admin said the matter is worded)."""
    entries = routing.data.entries
    examples = [(e, x) for e in entries for x in e.examples]
    astray = []
    for e, x in examples:
        d = routing.route(x, model=None)
        if d.line_unit != e.unit:
            astray.append(f"  - {e.id}：例句「{x}」派到了 {d.line_unit or '（无依据）'}")
    places = sum(len(t.all_places()) for t in routing.data.territories)
    head = (
        f"派单目录：{len(entries)} 个条目，派单员：{routing.dispatcher or '（未设置）'}；"
        f"属地：{len(routing.data.territories)} 个属地单位，{places} 个地名；"
        f"例句 {len(examples)} 条，{len(examples) - len(astray)} 条派到本条目的单位。"
    )
    return "\n".join([head, *astray])


def calendar_status(calendar: Any, year: int) -> str:
    """Which of this year and next the working calendar has officially, for whoever maintains calendar.yaml."""
    parts = []
    for y in (year, year + 1):
        if calendar.is_official(y):
            parts.append(f"{y} 年为国务院正式安排")
        else:
            parts.append(f"{y} 年暂按放假办法推算（时限标注“暂定”，正式安排公布后请补充到 calendar.yaml）")
    return "工作日历：" + "；".join(parts) + "。"


def _render_dialogue_templates(answering) -> list[str]:  # noqa: ANN001
    """Render every reply of the dialogue that is not an entry's answer (emergency, centre, status, not a
    question, not in the base, follow-up needed, several aspects, exemption coverage), so a template that
    fails is found here and not in the middle of a conversation."""
    from bot.core.answering.render import ASPECT_LABELS

    kb, r = answering.kb, answering.renderer
    kinds = [*answering.matcher.cues.emergency.kinds, None]
    item = next(iter(kb.items.values()), None)
    ex = next(iter(kb.exemptions.values()), None)
    cases: list[tuple[str, dict]] = [
        *(("emergency.html.j2", {"kind": k, "hotlines": list(kb.hotlines.values())}) for k in kinds),
        ("centre.html.j2", {"centre": kb.service_centre}),
        ("centre.html.j2", {"centre": None}),
        *(("status.html.j2", {"enabled": e}) for e in (True, False)),
        ("not_a_question.html.j2", {"text": "2"}),
        *(("not_in_base.html.j2", {"subject": "宠物", "act": a, "near": item}) for a in (True, False)),
        ("not_in_base.html.j2", {"subject": "", "act": False, "near": None}),
        *(
            ("followup_needed.html.j2", {"aspect": a, "centre": kb.service_centre})
            for a in [*ASPECT_LABELS, None]
        ),
        ("nomatch.html.j2", {"suggestions": [item] if item else []}),
        ("smalltalk/ack.html.j2", {}),
    ]
    import datetime as dt

    from bot.core.knowledge.models import Faq

    faq = Faq(
        id="faq-1",
        name="老房子加装电梯要谁同意",
        department=next(iter(kb.departments), ""),
        question="老房子加装电梯要谁同意",
        answer="需经本单元三分之二以上业主同意。",
        expires=dt.date(2027, 6, 1),
        reviewed_by="工作人员",
        source="工作人员对已办结诉求的答复（诉求 SQ20261220-0007）",
        updated=dt.date(2026, 12, 1),
    )
    cases.append(("faq.html.j2", {"entry": faq, "department": kb.department(faq.department)}))
    cases.append(("faq.html.j2", {"entry": faq.model_copy(update={"department": ""}), "department": None}))
    problems = []
    for name, ctx in cases:
        try:
            r.render(name, **ctx)
        except Exception as exc:  # report every template problem, not just the first
            problems.append(f"{name} {sorted(ctx)}: {type(exc).__name__}: {exc}")
    try:
        if item is not None:
            r.answer(item, "materials", aspects=list(ASPECT_LABELS))
        if ex is not None:
            for asked in [*ex.items[:1], *(i for i in kb.items if i not in ex.items)][:2]:
                r.answer(ex, None, asked_item=asked)
    except Exception as exc:
        problems.append(f"item/multi 或 exemption: {type(exc).__name__}: {exc}")
    return problems


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
    """One question a line -> one understanding a line. A line may be JSON, {"text": ..., "session": ...}:
    lines of one session are one person's messages, understood in order through the real dialogue."""
    from bot.core.answering.evaluate import make_dialogue
    from bot.core.tickets.classify import classify

    if sys.stdin is None:  # started with standard input closed (`<&-`): no questions, nothing to print
        return 0
    answering = _answering(settings)
    dialogue = make_dialogue(answering)
    for n, line in enumerate(sys.stdin):
        text, session = line.rstrip("\n"), None
        if text.strip().startswith("{"):
            try:
                obj = json.loads(text)
            except json.JSONDecodeError:
                obj = None
            if isinstance(obj, dict):
                text = str(obj.get("text") or "")
                session = obj.get("session")
        conv = f"s:{session}" if session not in (None, "") else f"line:{n}"
        out = dialogue.understand_in_context(conv, text).as_contract()
        if out["intent"] == "appeal":
            ranked = classify(text, answering.kb)
            out["category"] = ranked[0][0] if ranked else "其他"
        print(json.dumps(out, ensure_ascii=False), flush=True)
    return 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from bot.core.answering.evaluate import EvalFileError, evaluate, read_jsonl

    try:
        rows = read_jsonl(Path(args.file))
    except EvalFileError as exc:
        print(exc, file=sys.stderr)
        return 2
    rep = evaluate(_answering(settings), rows)
    if args.json:
        print(json.dumps(rep.as_dict(), ensure_ascii=False, indent=2))
    else:
        print(rep.render())
    if args.errors:
        for row, u in rep.errors:
            print(
                f"- {row['text']} | want {row['intent']}/{row.get('target')}/{row.get('aspect')}"
                f"{' urgent' if row.get('urgent') else ''}"
                f" | got {u.intent}/{u.target}/{u.aspect} {u.score:.2f}{' urgent' if u.urgent else ''}"
                f"{' ' + u.topic if u.topic else ''} | {u.corrected}"
            )
    return 0
