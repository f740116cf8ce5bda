"""`python -m bot kb import 政策清单.xlsx --into DIR`: a 政策清单 into the 政策库 of a base
(bot/core/policies/importer.py); the report names every bad row and cell, and what was added, updated and kept."""

from __future__ import annotations

import argparse
import datetime as dt
import time
from pathlib import Path

from bot.core.policies.importer import PolicyImportPlan
from bot.settings import Settings

SHOWN = 15  # names listed per kind of change in the report


def import_policies(args: argparse.Namespace, settings: Settings) -> int:
    from bot.core.knowledge import KnowledgeError
    from bot.core.policies.importer import apply_policy_import, plan_policy_import

    started = time.perf_counter()
    today = dt.datetime.now(settings.timezone).date()
    plan = plan_policy_import(Path(args.file), Path(args.into), today=today, prune=args.prune)
    if not plan.errors:
        try:
            apply_policy_import(plan, write=not args.dry_run)
        except KnowledgeError as exc:
            plan.errors += [f"导入后的知识库校验未通过：{p}" for p in exc.problems]
    print(report(plan, dry_run=args.dry_run, seconds=time.perf_counter() - started))
    return 1 if plan.errors else 0


def report(plan: PolicyImportPlan, *, dry_run: bool, seconds: float) -> str:
    out: list[str] = []
    if plan.errors:
        out.append(f"导入失败，政策库没有任何改动（{plan.source.name}）：")
        out += [f"  - {e}" for e in plan.errors[:200]]
        if len(plan.errors) > 200:
            out.append(f"  …… 另有 {len(plan.errors) - 200} 个问题")
        return "\n".join(out)
    verb = "将" if dry_run else "已"
    out.append(
        f"{'（试运行，未写入）' if dry_run else ''}{plan.source.name}：{plan.rows} 行，"
        f"新增 {len(plan.added)} 条政策，更新 {len(plan.updated)} 条，未变 {plan.unchanged} 条"
        f"（{seconds:.1f} 秒）。"
    )
    out.append(f"{verb}写入：{plan.file}")
    out.append("识别的列：" + "、".join(plan.recognised.values()))
    if plan.unknown_columns:
        out.append("未识别的列（没有导入，请按模板改列名）：" + "、".join(plan.unknown_columns))
    for title, changes in (("新增", plan.added), ("更新", plan.updated)):
        if changes:
            out.append(f"{title}：")
            for c in changes[:SHOWN]:
                what = f"（{'、'.join(c.fields)}）" if c.fields else ""
                out.append(f"  + {c.name} [{c.id}]{what}")
            if len(changes) > SHOWN:
                out.append(f"  …… 共 {len(changes)} 条")
    if plan.not_in_sheet:
        fate = "删除" if plan.pruned else "保留（用 --prune 删除）"
        out.append(f"以前从这张表导入、这次表中没有的政策 {len(plan.not_in_sheet)} 条，{verb}{fate}：")
        out += [f"  - {c.name} [{c.id}]" for c in plan.not_in_sheet[:SHOWN]]
    if not plan.changes:
        out.append("没有任何变化。")
    elif not dry_run:
        out.append(
            "正在运行的助手用 /reload（或 systemctl reload）读入新的政策，订阅的企业会在工作时间收到推送。"
        )
    return "\n".join(out)
