"""DATABASE_URL, DATABASE_POOL_SIZE and DATABASE_TIMEOUT_SECONDS: which database wins, and bad values named."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from bot.cli.main import settings_for
from bot.settings import ConfigError
from tests.conftest import make_settings


def load(**env: str):
    from bot.settings import Settings

    return Settings.load(environ=env, env_file=None)


def test_defaults_use_the_sqlite_file():
    s = make_settings()
    assert s.database_url is None and s.database == "data/zwfw.db"
    assert (s.database_pool_size, s.database_timeout_seconds) == (10, 10)


def test_database_url_wins_over_database_path_and_never_shows_its_password():
    s = load(DATABASE_PATH="x.db", DATABASE_URL="postgresql://zwfw:pa55word@db.example:5433/zwfw")
    assert s.database == "postgresql://zwfw:pa55word@db.example:5433/zwfw"
    assert "pa55word" not in repr(s)
    assert load(DATABASE_URL="sqlite:///data/other.db").database == "sqlite:///data/other.db"
    assert load(DATABASE_URL="  ").database == "data/zwfw.db"


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("mysql://u:secretpw@h/db", "不支持的数据库类型“mysql”"),
        ("postgresql://u:secretpw@h:99999/db", "端口不正确"),
        ("data/zwfw.db", "DATABASE_PATH"),
        ("sqlite://relative.db", "sqlite:///"),
    ],
)
def test_a_bad_database_url_is_named_without_its_password(value, problem):
    with pytest.raises(ConfigError) as bad:
        load(DATABASE_URL=value)
    assert bad.value.variable == "DATABASE_URL" and problem in str(bad.value)
    assert "secretpw" not in str(bad.value)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_POOL_SIZE", "0"),
        ("DATABASE_POOL_SIZE", "many"),
        ("DATABASE_TIMEOUT_SECONDS", "601"),
    ],
)
def test_pool_size_and_timeout_are_checked(name, value):
    with pytest.raises(ConfigError) as bad:
        load(**{name: value})
    assert bad.value.variable == name
    assert load(DATABASE_POOL_SIZE="40", DATABASE_TIMEOUT_SECONDS="3").database_pool_size == 40


def test_the_db_option_wins_over_the_environment(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h/db")
    args = argparse.Namespace(knowledge=None, db="local.db")
    s = settings_for(args)
    assert s.database_url is None and s.database_path == Path("local.db")
    args.db = "postgres://other@h2/db2"
    assert settings_for(args).database == "postgres://other@h2/db2"
    args.db = None
    assert settings_for(args).database == "postgresql://u@h/db"


def test_every_setting_is_documented_in_env_example():
    from bot.settings import Settings, env_name

    text = (Path(__file__).resolve().parents[1] / ".env.example").read_text(encoding="utf-8")
    missing = [env_name(f) for f in Settings.model_fields if f"{env_name(f)}=" not in text]
    assert missing == []
