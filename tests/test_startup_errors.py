"""A start-up that cannot succeed says why in one message naming the path, exits with status 2, and never
hangs (the processes run with a timeout; a hang fails the test instead of blocking the suite)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "123456789:AAEabcdefghijklmnopqrstuvwxyz012345"


def bot(
    *args: str, cwd: Path, env: dict[str, str] | None = None, stdin: str = ""
) -> subprocess.CompletedProcess:
    full_env = {
        k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_", "KNOWLEDGE_"))
    }
    full_env.update(env or {})
    full_env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=full_env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def not_a_database(tmp_path: Path) -> Path:
    path = tmp_path / "zwfw.db"
    path.write_bytes(b"this is not an sqlite database, just text" * 100)
    return path


@pytest.mark.parametrize(
    "args",
    [
        ("chat", "--db", "{db}"),
        ("tickets", "list", "--db", "{db}"),
        ("tickets", "show", "SQ20261123-0001", "--db", "{db}"),
        ("digest", "--db", "{db}"),
        ("run",),
    ],
    ids=["chat", "tickets-list", "tickets-show", "digest", "run"],
)
def test_a_file_that_is_not_a_database_is_named_and_exits_2(tmp_path, not_a_database, args):
    argv = [a.format(db=not_a_database) for a in args]
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, "DATABASE_PATH": str(not_a_database)}
    proc = bot(*argv, cwd=tmp_path, env=env, stdin="你好\n")
    assert proc.returncode == 2, proc.stderr
    assert str(not_a_database) in proc.stderr and "不是有效的 SQLite 数据库" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_database_in_a_folder_that_cannot_be_created_is_named(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    proc = bot("chat", "--db", str(blocker / "sub" / "zwfw.db"), cwd=tmp_path, stdin="你好\n")
    assert proc.returncode == 2 and str(blocker / "sub") in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_missing_knowledge_directory_is_named(tmp_path):
    proc = bot("--knowledge", str(tmp_path / "nowhere"), "ask", "护照", cwd=tmp_path)
    assert proc.returncode == 2 and str(tmp_path / "nowhere") in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_missing_template_is_named(tmp_path):
    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", templates)
    (templates / "item" / "fee.html.j2").unlink()
    proc = bot("ask", "护照", cwd=tmp_path, env={"TEMPLATES_DIR": str(templates)})
    assert proc.returncode == 2, proc.stderr
    assert "item/fee.html.j2" in proc.stderr and str(templates) in proc.stderr


def test_a_missing_intents_file_is_named(tmp_path):
    intents = tmp_path / "intents"
    shutil.copytree(ROOT / "intents", intents)
    (intents / "aspects.yaml").unlink()
    proc = bot("ask", "护照", cwd=tmp_path, env={"INTENTS_DIR": str(intents)})
    assert proc.returncode == 2, proc.stderr
    assert str(intents / "aspects.yaml") in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_bad_setting_is_named(tmp_path):
    (tmp_path / ".env").write_text("RATE_LIMIT=很多\n", encoding="utf-8")
    proc = bot("ask", "护照", cwd=tmp_path)
    assert proc.returncode == 2 and "RATE_LIMIT" in proc.stderr and "整数" in proc.stderr
