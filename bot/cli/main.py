"""python -m bot …: argparse only. Each command module adds its parsers; every command gets its settings here,
once, and asks the composition root (bot/app.py) for what it needs.

Exit codes: 0 done; 1 the command ran and found problems (e.g. `check`); 2 the assistant could not start
(a setting, a data folder, the knowledge base or the database is wrong: one message names it); 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

from bot.settings import ConfigError, Settings

from . import answering, db, kb, policies, routing, serve, sla, tickets

Command = Callable[[argparse.Namespace, Settings], int]


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m bot", description="政务服务助手")
    ap.add_argument("--knowledge", default=None, help="知识库目录（默认使用自带的示例知识库）")
    ap.add_argument(
        "--traceback", action="store_true", help="意外出错时打印 Python 的详细出错位置（供维护者排查）"
    )
    sub = ap.add_subparsers(dest="command", required=True)
    for module in (answering, serve, tickets, sla, db, routing, kb, policies):
        module.register(sub)
    return ap


def settings_for(args: argparse.Namespace) -> Settings:
    """The environment and .env, then what the command line says (`--db` a path or a URL: it wins over both
    DATABASE_URL and DATABASE_PATH)."""
    db = getattr(args, "db", None)
    if not db:
        return Settings.load(knowledge_dir=args.knowledge)
    if "://" in db:
        return Settings.load(knowledge_dir=args.knowledge, database_url=db)
    return Settings.load(knowledge_dir=args.knowledge, database_path=db, database_url="")


def main(argv: list[str] | None = None) -> int:
    from bot.app import StartupError
    from bot.core.knowledge import KnowledgeError

    args = build_parser().parse_args(argv)
    run: Command = args.run
    try:
        return run(args, settings_for(args))
    except ConfigError as exc:
        print(f"配置错误：{exc}", file=sys.stderr)
    except (StartupError, KnowledgeError) as exc:
        print(exc, file=sys.stderr)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # the reader went away (`… | head`): nothing more to say, and nothing is wrong
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - so the interpreter's final flush stays quiet
        return 0
    except Exception as exc:  # not foreseen: one sentence for the person, the traceback only on request
        if args.traceback:
            raise
        print(unexpected(exc), file=sys.stderr)
        return 1
    return 2


def unexpected(exc: BaseException) -> str:
    """One sentence about an error nobody foresaw, with personal numbers and secrets masked."""
    from bot.core.text.mask import SecretRedactor, mask_pii

    detail = mask_pii(SecretRedactor()(str(exc)))[:300]
    return (
        f"意外错误（{type(exc).__name__}{'：' + detail if detail else ''}）。这是程序本身的问题，"
        "请把这句话和所用的命令告诉维护者；加 --traceback 可看到出错的位置。"
    )
