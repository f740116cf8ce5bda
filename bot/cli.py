"""Command line: python -m bot chat|ask|match|eval|check|run|digest|tickets."""

from __future__ import annotations

import argparse
import sys

from bot.core.knowledge import KnowledgeError, load_knowledge


def cmd_check(args: argparse.Namespace) -> int:
    try:
        kb = load_knowledge(args.knowledge)
    except KnowledgeError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"知识库校验通过：事项 {len(kb.items)} 个，一件事 {len(kb.bundles)} 个，免证明 {len(kb.exemptions)} 个，部门 {len(kb.departments)} 个。")
    return 0


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m bot", description="政务服务助手")
    ap.add_argument("--knowledge", default=None, help="知识库目录（默认 knowledge/）")
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("check", help="校验知识库并渲染每个条目")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return {"check": cmd_check}[args.command](args)
