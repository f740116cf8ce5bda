"""`python -m bot route "诉求内容" [--place 地点] [--json]`: where a message would go and why; and
`python -m bot routing retrain|models`: train routing on this deployment's tickets now, list its models."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import TYPE_CHECKING, Any

from bot.settings import Settings

if TYPE_CHECKING:
    from bot.app import App
    from bot.core.routing import Decision
    from bot.core.routing.learning import RoutingDesk
    from bot.core.texts import Texts


def register(sub: Any) -> None:
    p = sub.add_parser("route", help="预判一条诉求会派给谁、依据是什么（派单目录、属地、学习模型）")
    p.add_argument("text", nargs="+")
    p.add_argument("--place", default=None, help="受理时填写的地点")
    p.add_argument("--json", action="store_true")
    p.add_argument("--db", default=None, help="诉求数据库（学习模型存在这里）：路径或 postgresql:// 网址")
    p.set_defaults(run=cmd_route)
    r = sub.add_parser("routing", help="自动派单的学习模型")
    rsub = r.add_subparsers(dest="routing_command", required=True)
    t = rsub.add_parser("retrain", help="用本中心的转派、派单、改类别记录重新训练（比当前差则不启用）")
    t.add_argument("--db", default=None)
    t.set_defaults(run=cmd_retrain)
    m = rsub.add_parser("models", help="列出最近训练的模型和它们的检验成绩")
    m.add_argument("--db", default=None)
    m.set_defaults(run=cmd_models)


def _desk(app: App) -> tuple[RoutingDesk, Texts] | None:
    """The deployment's routing and its texts; None (said on stderr) when tickets are not set up."""
    service = app.assistant.service
    if service is None or service.routing is None:
        print("诉求受理未启用，无法派单。", file=sys.stderr)
        return None
    return service.routing, service.texts


def _as_json(d: Decision) -> dict[str, Any]:
    return {
        "unit": d.unit,
        "line_unit": d.line_unit,
        "sure": d.sure,
        "confidence": round(d.confidence, 4),
        "source": d.source,
        "entry": d.entry.id if d.entry else None,
        "category": d.category,
        "local": d.local,
        "place": {"name": d.place.name, "kind": d.place.kind, "unit": d.place.unit} if d.place else None,
        "needs_place": d.needs_place,
        "scores": [[u, round(v, 4)] for u, v in d.scores],
        "runner_up": [d.runner_up[0], round(d.runner_up[1], 4)] if d.runner_up else None,
        "entries": [
            {"id": s.entry.id, "unit": s.entry.unit, "score": round(s.score, 3), "keywords": list(s.keywords)}
            for s in d.rules.entries[:5]
        ],
        "model": [[u, round(p, 4)] for u, p in (d.model or [])[:5]],
    }


def cmd_route(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import running
    from bot.core.text.markup import html_to_text
    from bot.core.tickets.commands.routing import explain

    async def go() -> int:
        async with running(settings) as app:
            found = _desk(app)
            if found is None:
                return 2
            desk, texts = found
            d = desk.route(" ".join(args.text), args.place)
            if args.json:
                print(json.dumps(_as_json(d), ensure_ascii=False))
            else:
                print(html_to_text(explain(texts, d, desk.dispatcher)))
        return 0

    return asyncio.run(go())


def cmd_retrain(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import running
    from bot.core.text.markup import html_to_text

    async def go() -> int:
        async with running(settings) as app:
            found = _desk(app)
            if found is None:
                return 2
            desk, texts = found
            result = await desk.retrain()
            text = texts.say("routing/replies.html.j2", "retrained", r=result, needed=desk.min_examples)
            print(html_to_text(text))
        return 0

    return asyncio.run(go())


def cmd_models(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import running

    async def go() -> int:
        async with running(settings) as app:
            found = _desk(app)
            if found is None:
                return 2
            for m in await found[0].models(10):
                print(
                    f"{m.id}\t{m.created_at.isoformat(timespec='seconds')}\t{'启用' if m.active else '未启用'}\t"
                    f"样本 {m.examples}\t检验 {m.held_back} 件：{m.score:.1%}（对照 {m.baseline:.1%}）"
                )
        return 0

    return asyncio.run(go())
