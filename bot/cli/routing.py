"""`python -m bot route "诉求内容" [--place 地点] [--json]`: where a message would go and why;
`python -m bot routing retrain|models`: train routing on this deployment's tickets now, list its models; and
`python -m bot routing export --to FILE.xlsx` / `routing import FILE.xlsx [--dry-run] [--dispatcher 单位]`: the
派单目录 of the knowledge folder (`--knowledge DIR`) as a workbook, and an edited workbook back into it."""

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
    i = rsub.add_parser(
        "import", help="把派单目录表格（.xlsx）导入知识库（有错的行逐一列出，全部无误才写入）"
    )
    i.add_argument("file", help="派单目录表格")
    i.add_argument("--dry-run", action="store_true", help="只显示会有哪些变化，不写入")
    i.add_argument("--dispatcher", default=None, help="派单员所在单位（默认沿用知识库中的）")
    i.set_defaults(run=cmd_import)
    e = rsub.add_parser("export", help="把派单目录导出为 Excel 表格（可编辑后再导入）")
    e.add_argument("--to", required=True, help="导出的 .xlsx 文件")
    e.set_defaults(run=cmd_export)


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


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    from bot.app import DataPaths
    from bot.core.knowledge import KnowledgeError, load_knowledge
    from bot.core.routing.sheet import apply_import, plan_import

    source = Path(args.file)
    if not source.is_file():
        print(f"找不到文件：{source}", file=sys.stderr)
        return 2
    root = DataPaths.resolve(settings).knowledge
    kb = load_knowledge(root)
    plan = plan_import(source, root, kb, dispatcher=args.dispatcher)
    if not plan.problems and not args.dry_run:
        try:
            apply_import(plan, root, kb)
        except KnowledgeError as exc:
            plan.problems += [f"导入后的知识库校验未通过：{p}" for p in exc.problems]
    if plan.problems:
        print(f"导入失败，派单目录没有任何改动（{source.name}）：")
        for p in plan.problems[:200]:
            print(f"  - {p}")
        if len(plan.problems) > 200:
            print(f"  …… 另有 {len(plan.problems) - 200} 个问题")
        return 1
    verb = "将" if args.dry_run else "已"
    print(
        f"{'（试运行，未写入）' if args.dry_run else ''}{source.name}：{plan.rows} 行，新增 {len(plan.added)} 个条目，"
        f"更新 {len(plan.changed)} 个，删除 {len(plan.removed)} 个，未变 {plan.unchanged} 个；{verb}写入 {plan.target}"
    )
    for title, ids in (("新增", plan.added), ("更新", plan.changed), ("删除", plan.removed)):
        if ids:
            print(f"{title}：{'、'.join(ids)}")
    if plan.written:
        print("重新加载（/reload 或重启）后生效。")
    return 0


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    from bot.app import DataPaths, load_routing
    from bot.core.knowledge import load_knowledge
    from bot.core.routing.sheet import export_sheet

    root = DataPaths.resolve(settings).knowledge
    routing = load_routing(load_knowledge(root), root)
    n = export_sheet(routing.data.entries, Path(args.to))
    print(f"已导出派单目录 {n} 个条目到 {args.to}（第二张表是填写说明）")
    return 0
