"""Settings for the Telegram deployment: .env parsing, defaults, and clear errors for bad values."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.settings import ConfigError, Settings, parse_env_file

TOKEN = "123456789:AAEabcdefghijklmnopqrstuvwxyz012345"


def load(tmp_path: Path, env_text: str = "", **environ: str) -> Settings:
    f = tmp_path / ".env"
    f.write_text(env_text, encoding="utf-8")
    return Settings.load(environ=environ, env_file=f, require_token=True)


def test_defaults_with_only_a_token(tmp_path: Path):
    s = load(tmp_path, f"TELEGRAM_BOT_TOKEN={TOKEN}\n")
    assert s.telegram_bot_token == TOKEN
    assert str(s.timezone) == "Asia/Shanghai"
    assert s.digest_time == dt.time(8, 30)
    assert s.database_path == Path("data/zwfw.db")
    assert s.reminder_interval_seconds == 60 and s.rate_limit == 20
    assert s.log_level == "INFO" and not s.use_webhook
    assert s.staff_groups == {} and s.admin_ids == frozenset()
    assert s.http_client == "aiohttp" and s.concurrent_updates == 64


def test_full_env_file_with_comments_quotes_and_export(tmp_path: Path):
    text = f"""
# comment line
export TELEGRAM_BOT_TOKEN="{TOKEN}"
STAFF_GROUPS=公安局=-1001234,人力资源和社会保障局=-1005678,*=-1009999   # 兜底群
ADMIN_IDS = 11, 22
DIGEST_TIME='07:05'
TIMEZONE=Asia/Urumqi
WEBHOOK_URL=https://bot.example.gov.cn/tg/hook
WEBHOOK_PORT=8443
WEBHOOK_SECRET=s3cr3t_-x
RATE_LIMIT=0
LOG_LEVEL=debug
"""
    s = load(tmp_path, text)
    assert s.telegram_bot_token == TOKEN
    assert s.staff_groups == {"公安局": (-1001234,), "人力资源和社会保障局": (-1005678,), "*": (-1009999,)}
    assert s.admin_ids == frozenset({11, 22})
    assert s.digest_time == dt.time(7, 5)
    assert str(s.timezone) == "Asia/Urumqi"
    assert s.use_webhook and s.webhook_port == 8443 and s.webhook_secret == "s3cr3t_-x"
    assert s.rate_limit == 0 and s.log_level == "DEBUG"
    # a department without a group of its own goes to the catch-all group
    assert s.chats_for_department("民政局") == (-1009999,)
    assert s.chats_for_department("公安局") == (-1001234,)


def test_environment_wins_over_env_file(tmp_path: Path):
    s = load(tmp_path, f"TELEGRAM_BOT_TOKEN={TOKEN}\nRATE_LIMIT=5\n", RATE_LIMIT="30")
    assert s.rate_limit == 30


async def test_built_app_uses_the_configured_paths_timezone_and_admins(tmp_path: Path):
    import shutil

    from bot.app import build

    kdir = tmp_path / "kb"
    shutil.copytree(Path(__file__).parent / "fixtures" / "kb_min", kdir)
    s = load(
        tmp_path,
        f"TELEGRAM_BOT_TOKEN={TOKEN}\nADMIN_IDS=7\nDATABASE_PATH={tmp_path}/x.db\nKNOWLEDGE_DIR={kdir}\n"
        "TIMEZONE=Asia/Urumqi\n",
    )
    app = await build(s)
    try:
        assert app.paths.knowledge == kdir and app.kb.root == kdir
        assert (tmp_path / "x.db").exists()
        assert await app.assistant.service.staff_member("7") is not None  # an admin from ADMIN_IDS
        assert str(app.clock.now().tzinfo) == "Asia/Urumqi"
    finally:
        await app.aclose()


@pytest.mark.parametrize(
    ("env_text", "variable", "words"),
    [
        ("", "TELEGRAM_BOT_TOKEN", "未设置"),
        ("TELEGRAM_BOT_TOKEN=abc", "TELEGRAM_BOT_TOKEN", "格式不正确"),
        (f"TELEGRAM_BOT_TOKEN={TOKEN}\nSTAFF_GROUPS=公安局", "STAFF_GROUPS", "部门=群组ID"),
        (f"TELEGRAM_BOT_TOKEN={TOKEN}\nSTAFF_GROUPS=公安局=abc", "STAFF_GROUPS", "不是整数"),
        (f"TELEGRAM_BOT_TOKEN={TOKEN}\nADMIN_IDS=12,老王", "ADMIN_IDS", "老王"),
        (f"TELEGRAM_BOT_TOKEN={TOKEN}\nTIMEZONE=Mars/Base", "TIMEZONE", "Mars/Base"),
        (f"TELEGRAM_BOT_TOKEN={TOKEN}\nDIGEST_TIME=8点半", "DIGEST_TIME", "08:30"),
        (f"TELEGRAM_BOT_TOKEN={TOKEN}\nDIGEST_TIME=25:00", "DIGEST_TIME", "24 小时制"),
        (
            f"TELEGRAM_BOT_TOKEN={TOKEN}\nWEBHOOK_URL=http://x.cn/h\nWEBHOOK_PORT=80",
            "WEBHOOK_URL",
            "https://",
        ),
        (f"TELEGRAM_BOT_TOKEN={TOKEN}\nWEBHOOK_URL=https://x.cn/h", "WEBHOOK_PORT", "未设置"),
        (
            f"TELEGRAM_BOT_TOKEN={TOKEN}\nWEBHOOK_URL=https://x.cn/h\nWEBHOOK_PORT=99999",
            "WEBHOOK_PORT",
            "范围",
        ),
        (f"TELEGRAM_BOT_TOKEN={TOKEN}\nREMINDER_INTERVAL_SECONDS=1分钟", "REMINDER_INTERVAL_SECONDS", "整数"),
        (f"TELEGRAM_BOT_TOKEN={TOKEN}\nRATE_LIMIT=-1", "RATE_LIMIT", "范围"),
        (f"TELEGRAM_BOT_TOKEN={TOKEN}\nLOG_LEVEL=LOUD", "LOG_LEVEL", "LOUD"),
        (f"TELEGRAM_BOT_TOKEN={TOKEN}\nCONCURRENT_UPDATES=0", "CONCURRENT_UPDATES", "范围"),
        (
            f"TELEGRAM_BOT_TOKEN={TOKEN}\nTELEGRAM_HTTP_CLIENT=curl",
            "TELEGRAM_HTTP_CLIENT",
            "aiohttp 或 httpx",
        ),
        (f"TELEGRAM_BOT_TOKEN={TOKEN}\nKNOWLEDGE_DIR=/no/such/dir", "KNOWLEDGE_DIR", "不存在"),
        (f"TELEGRAM_BOT_TOKEN={TOKEN}\nTELEGRAM_BASE_URL=localhost:8081", "TELEGRAM_BASE_URL", "http://"),
    ],
)
def test_bad_setting_names_variable_and_problem(tmp_path: Path, env_text: str, variable: str, words: str):
    with pytest.raises(ConfigError) as info:
        load(tmp_path, env_text)
    assert info.value.variable == variable
    message = str(info.value)
    assert message.startswith(variable) and words in message


def test_malformed_env_line_names_the_line(tmp_path: Path):
    with pytest.raises(ConfigError) as info:
        load(tmp_path, f"TELEGRAM_BOT_TOKEN={TOKEN}\n这一行不对\n")
    assert "第 2 行" in str(info.value)
    with pytest.raises(ConfigError) as info:
        parse_env_file('A="unterminated\n')
    assert "引号没有闭合" in str(info.value)


def test_unknown_department_in_staff_groups_is_refused(tmp_path: Path):
    s = load(tmp_path, f"TELEGRAM_BOT_TOKEN={TOKEN}\nSTAFF_GROUPS=公按局=-1001,*=-1002\n")
    with pytest.raises(ConfigError) as info:
        s.check_departments({"公安局", "民政局"})
    assert info.value.variable == "STAFF_GROUPS" and "公按局" in str(info.value)
    s.check_departments({"公按局"})  # a correct name passes


def test_token_not_required_for_offline_commands(tmp_path: Path):
    f = tmp_path / ".env"
    f.write_text("", encoding="utf-8")
    s = Settings.load(environ={}, env_file=f, require_token=False)
    assert s.telegram_bot_token == ""
