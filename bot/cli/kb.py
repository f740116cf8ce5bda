"""`python -m bot kb …`: a centre's own catalogue.

  kb import FILE --into DIR [--dry-run] [--prune]   a 办事指南 sheet (.xlsx, .csv, .json) into a base; a 政策清单
                                                    (.xlsx with 政策名称, or --policies) into its 政策库
  kb export [--policies] --to FILE.xlsx             the base's items (or policies) as a workbook
  kb template [--policies] [--to FILE.xlsx]         an empty workbook with the columns and one example row
  kb review [--older-than DAYS]                     entries whose `updated` date is older than the review age

`--knowledge DIR` (before `kb`) says which base export and review read.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from bot.settings import Settings

SHOWN = 15  # names listed per kind of change in the report


def register(sub: Any) -> None:
    kb = sub.add_parser("kb", help="知识库：导入/导出办事指南表格，定期复核")
    ksub = kb.add_subparsers(dest="kb_command", required=True)
    p = ksub.add_parser("import", help="把办事指南表格（.xlsx/.csv/.json）导入知识库")
    p.add_argument("file", help="办事指南表格")
    p.add_argument("--into", required=True, help="知识库目录（不存在时新建）")
    p.add_argument("--dry-run", action="store_true", help="只显示会有哪些变化，不写入")
    p.add_argument("--prune", action="store_true", help="删除这张表以前导入、这次表中已没有的事项")
    p.add_argument(
        "--policies", action="store_true", help="这是惠企政策清单（有“政策名称”列的表格会自动识别）"
    )
    p.set_defaults(run=cmd_import)
    p = ksub.add_parser("export", help="把知识库的事项导出为 Excel 表格")
    p.add_argument("--to", required=True, help="导出的 .xlsx 文件")
    p.add_argument("--policies", action="store_true", help="导出政策库的惠企政策")
    p.set_defaults(run=cmd_export)
    p = ksub.add_parser("template", help="生成空白的办事指南表格模板（含填写说明和一行示例）")
    p.add_argument("--to", default=None, help="模板文件（默认 办事指南模板.xlsx，政策为 惠企政策模板.xlsx）")
    p.add_argument("--policies", action="store_true", help="惠企政策清单的模板")
    p.set_defaults(run=cmd_template)
    p = ksub.add_parser("review", help="列出超过复核周期未更新的条目")
    p.add_argument("--older-than", type=int, default=None, help="天数（默认为 KNOWLEDGE_REVIEW_DAYS）")
    p.set_defaults(run=cmd_review)


class ProgressBar:
    """A one-line bar on a terminal; elsewhere (a log, a pipe) one line when a phase ends."""

    def __init__(self, out: TextIO = sys.stderr, width: int = 30):
        self.out, self.width = out, width
        self.tty = out.isatty()
        self._last = 0.0
        self._phase = ""

    def __call__(self, phase: str, done: int, total: int) -> None:
        now = time.monotonic()
        finished = total > 0 and done >= total
        if not finished and now - self._last < 0.1:
            return
        self._last = now
        total = max(total, done, 1)
        filled = int(self.width * done / total)
        line = f"{phase} [{'█' * filled}{'░' * (self.width - filled)}] {done:,}/{total:,}"
        if self.tty:
            self.out.write("\r" + line + ("\n" if finished else ""))
        elif finished and phase != self._phase:
            self.out.write(line + "\n")
        if finished:
            self._phase = phase
        self.out.flush()


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from bot.core.knowledge import KnowledgeError
    from bot.core.knowledge.catalog import apply_import, plan_import

    source = Path(args.file)
    if not source.is_file():
        print(f"找不到文件：{source}", file=sys.stderr)
        return 2
    from bot.core.policies.sheet import is_policy_sheet

    if args.policies or is_policy_sheet(source):
        from .kb_policies import import_policies

        return import_policies(args, settings)
    started = time.perf_counter()
    today = dt.datetime.now(settings.timezone).date()
    plan = plan_import(source, Path(args.into), today=today, prune=args.prune, progress=ProgressBar())
    if not plan.errors:
        try:
            apply_import(plan, write=not args.dry_run)
        except KnowledgeError as exc:
            plan.errors += [f"导入后的知识库校验未通过：{p}" for p in exc.problems]
    print(report(plan, dry_run=args.dry_run, seconds=time.perf_counter() - started))
    return 1 if plan.errors else 0


def report(plan: Any, *, dry_run: bool, seconds: float) -> str:
    out: list[str] = []
    if plan.errors:
        out.append(f"导入失败，知识库没有任何改动（{plan.source.name}）：")
        out += [f"  - {e}" for e in plan.errors[:200]]
        if len(plan.errors) > 200:
            out.append(f"  …… 另有 {len(plan.errors) - 200} 个问题")
        return "\n".join(out)
    verb = "将" if dry_run else "已"
    out.append(
        f"{'（试运行，未写入）' if dry_run else ''}{plan.source.name}：{plan.rows} 行，"
        f"新增 {len(plan.added)} 个事项，更新 {len(plan.updated)} 个，未变 {plan.unchanged} 个"
        f"（{seconds:.1f} 秒）。"
    )
    out.append(f"{verb}写入：{plan.file}{'（新建知识库）' if plan.new_base else ''}")
    out.append("识别的列：" + "、".join(plan.recognised.values()))
    if plan.unknown_columns:
        out.append(
            "未识别的列（内容原样保存在各事项的 imported.extra 中，导出时会还原，但回答不会使用）："
            + "、".join(plan.unknown_columns)
        )
    for title, changes in (("新增", plan.added), ("更新", plan.updated)):
        if changes:
            out.append(f"{title}：")
            for c in changes[:SHOWN]:
                what = f"（{'、'.join(c.fields)}）" if c.fields else ""
                out.append(f"  + {c.name} [{c.id}]{what}")
            if len(changes) > SHOWN:
                out.append(f"  …… 共 {len(changes)} 个")
    if plan.not_in_sheet:
        fate = "删除" if plan.pruned else "保留（用 --prune 删除）"
        out.append(f"以前从这张表导入、这次表中没有的事项 {len(plan.not_in_sheet)} 个，{verb}{fate}：")
        out += [f"  - {c.name} [{c.id}]" for c in plan.not_in_sheet[:SHOWN]]
    if plan.new_departments:
        out.append(
            f"{verb}新增部门 {len(plan.new_departments)} 个（电话、窗口、地址待补充，在补充前回答会给出服务中心的联系方式）："
            + "、".join(plan.new_departments)
        )
    if plan.new_base:
        out.append(
            "新知识库的部门、服务中心（centre.yaml）、诉求类别和时限规则复制自示例知识库，请按本地情况修改。"
        )
    if not plan.changes:
        out.append("没有任何变化。")
    return "\n".join(out)


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import DataPaths
    from bot.core.knowledge import load_knowledge
    from bot.core.knowledge.catalog import export_base

    kb = load_knowledge(DataPaths.resolve(settings).knowledge)
    if args.policies:
        from bot.core.policies.importer import export_policies

        print(f"已导出 {export_policies(kb.policies, Path(args.to))} 条惠企政策到 {args.to}")
        return 0
    n = export_base(kb, Path(args.to))
    print(f"已导出 {n} 个事项到 {args.to}")
    return 0


def cmd_template(args: argparse.Namespace, settings: Settings) -> int:
    from bot.core.knowledge.catalog import write_template

    if args.policies:
        from bot.core.policies.importer import write_policy_template

        to = args.to or "惠企政策模板.xlsx"
        write_policy_template(Path(to))
        print(
            f"已生成模板 {to}：第一张表是政策（含一行示例），第二张表是“满足其一”的条件组，第三张表是填写说明。"
        )
        return 0
    to = args.to or "办事指南模板.xlsx"
    write_template(Path(to))
    print(f"已生成模板 {to}：第一张表是事项（含一行示例），第二张表是填写说明。")
    return 0


def cmd_review(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import DataPaths
    from bot.core.knowledge import load_knowledge
    from bot.core.knowledge.review import due_for_review

    days = args.older_than if args.older_than is not None else settings.knowledge_review_days
    if days < 0:
        print("--older-than 应为不小于 0 的天数", file=sys.stderr)
        return 2
    kb = load_knowledge(DataPaths.resolve(settings).knowledge)
    today = dt.datetime.now(settings.timezone).date()
    stale = due_for_review(kb, today, days)
    if not stale:
        print(f"没有超过 {days} 天未复核的条目（共 {len(kb.entries)} 个）。")
        return 0
    print(f"超过 {days} 天未复核的条目 {len(stale)} 个（共 {len(kb.entries)} 个），按最久未复核排列：")
    for s in stale:
        print(f"  {s.updated.isoformat()}  {s.age_days:>4} 天  {s.name} [{s.id}]（{s.department}，{s.file}）")
    return 0
