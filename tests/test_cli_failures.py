"""`python -m bot …` given bad arguments or bad files: one clear sentence and an exit status, never a traceback."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def db(tmp_path) -> str:
    path = str(tmp_path / "t.db")
    assert main(["db", "migrate", "--db", path]) == 0
    return path


def one_message(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.strip(), err
    return err


@pytest.mark.parametrize(
    "target, why",
    [("missing-dir/x.csv", "No such file"), (".", "Is a directory")],
)
def test_export_to_an_unwritable_path(db, tmp_path, capsys, target, why):
    out = tmp_path / target
    assert main(["tickets", "export", "--format", "csv", "-o", str(out), "--db", db]) == 2
    err = one_message(capsys)
    assert "无法写入导出文件" in err and why in err


def test_export_with_a_missing_database_leaves_no_empty_file(tmp_path, capsys):
    out = tmp_path / "x.csv"
    code = main(["tickets", "export", "--format", "csv", "-o", str(out), "--db", str(tmp_path / "none.db")])
    assert code == 2 and "找不到诉求数据库" in one_message(capsys)
    assert not out.exists()


@pytest.mark.parametrize(
    "date, says",
    [
        ("2026-13-40", "格式应为 YYYY-MM-DD"),
        ("0001-01-01", "超出可计算的范围"),
        ("9999-12-31", "超出可计算的范围"),
    ],
)
def test_digest_with_a_bad_date(db, capsys, date, says):
    assert main(["digest", "--date", date, "--db", db]) == 2
    assert says in one_message(capsys)


def test_digest_of_an_unknown_department_says_so(db, capsys):
    # it used to print an empty digest under the unknown name, as if that department had nothing to report
    assert main(["digest", "--department", "不存在的局", "--db", db]) == 2
    err = one_message(capsys)
    assert "没有名为「不存在的局」的部门" in err and "城市管理局" in err


@pytest.mark.parametrize(
    "start, says",
    [
        ("junk", "无法识别"),
        ("9999-12-31 23:59", "超出可计算的范围"),
        ("1900-01-01 10:00", "超出可计算的范围"),
    ],
)
def test_sla_deadlines_with_a_bad_start(capsys, start, says):
    assert main(["sla", "deadlines", "--start", start]) == 2
    assert says in one_message(capsys)


def test_tickets_list_refuses_a_limit_below_one(db, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["tickets", "list", "--limit", "-5", "--db", db])
    assert exited.value.code == 2
    assert "应为大于 0 的整数" in one_message(capsys)


def test_tickets_show_with_undecodable_bytes_in_the_number(db, capsys):
    # argv carries bytes that are not UTF-8 as lone surrogates, which the database cannot take
    assert main(["tickets", "show", "SQ\udcff", "--db", db]) == 1
    assert "没有找到诉求" in one_message(capsys)


@pytest.mark.parametrize(
    "content, says",
    [
        (None, "找不到评测文件"),
        ("DIR", "是目录"),
        (b"\xff\xfe{}", "不是 UTF-8 文本"),
        (b'{"text": "x"}\n{bad\n', ":2: 不是有效的 JSON"),
        (b"[1, 2]\n", '带文字 "text" 的 JSON 对象'),
        (b'{"text": 5}\n', '带文字 "text" 的 JSON 对象'),
    ],
)
def test_eval_on_a_missing_or_malformed_file(tmp_path, capsys, content, says):
    path = tmp_path / "set.jsonl"
    if content == "DIR":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    assert main(["eval", str(path)]) == 2
    assert says in one_message(capsys)


def test_an_unforeseen_error_is_one_masked_sentence_and_the_traceback_only_on_request(monkeypatch, capsys):
    import bot.cli.sla as sla

    def broken(args, settings):
        raise RuntimeError("号码 13812345678 处理失败")

    monkeypatch.setattr(sla, "run_deadlines", broken)
    assert main(["sla", "deadlines", "--start", "2026-11-23 10:00"]) == 1
    err = one_message(capsys)
    assert "意外错误（RuntimeError" in err and "138****5678" in err and "13812345678" not in err
    assert "--traceback" in err
    with pytest.raises(RuntimeError):
        main(["--traceback", "sla", "deadlines", "--start", "2026-11-23 10:00"])


async def test_console_without_any_input_says_goodbye(tmp_path, clock):
    from bot.adapters.console import run_console

    out = io.StringIO()
    code = await run_console(make_settings(database_path=tmp_path / "c.db"), stdin=None, out=out)
    assert code == 0 and "再见" in out.getvalue()


def test_console_with_stdin_closed_exits_instead_of_hanging(tmp_path):
    # `python -m bot chat <&-` used to fail before its try/finally and hang on the database's threads
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "chat", "--db", str(tmp_path / "c.db")],
        cwd=ROOT,
        preexec_fn=lambda: os.close(0),  # noqa: PLW1509 - the child must start with no standard input at all
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    assert "再见" in proc.stdout.decode() and b"Traceback" not in proc.stderr


def test_a_directory_given_as_the_database_is_one_sentence(tmp_path, capfd):
    # aiosqlite's thread used to print a traceback after the loop had closed ("Event loop is closed")
    assert main(["tickets", "list", "--db", str(tmp_path)]) == 2
    err = capfd.readouterr().err
    assert "这是一个目录" in err and "Traceback" not in err and "Event loop" not in err


def test_tickets_list_refuses_an_unknown_state(db, capsys):
    # it used to print "共 0 件" as if there were simply no tickets in that state
    with pytest.raises(SystemExit) as exited:
        main(["tickets", "list", "--state", "胡说", "--db", db])
    assert exited.value.code == 2
    assert "待受理" in one_message(capsys)


def test_match_with_stdin_closed_prints_nothing_and_exits_0(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "match", "--jsonl"],
        cwd=ROOT,
        preexec_fn=lambda: os.close(0),  # noqa: PLW1509 - the child must start with no standard input at all
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == 0 and proc.stdout == b"" and proc.stderr == b"", proc.stderr.decode()[-2000:]
