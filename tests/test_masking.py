"""Personal numbers are masked however they are written, and only personal numbers are: the one masking
function (bot/core/text/mask.py), then every channel that shows ticket text to somebody other than the citizen
(staff-group posts, the digest, log records, the error handler, `tickets list`, `tickets export --mask`)."""

from __future__ import annotations

import asyncio
import csv
import json
import logging
import sys
from types import SimpleNamespace

import pytest

from bot.core.clock import FixedClock
from bot.core.text.mask import mask_phone, mask_pii
from tests.test_tickets_helpers import at, make_service, outbox

MOBILE = "138****5678"
ID18 = "110101********4518"
LANDLINE = "0571-****1234"

CASES = [
    # ---- mobile numbers
    ("13812345678", MOBILE),
    ("电话13812345678", "电话" + MOBILE),
    ("１３８１２３４５６７８", MOBILE),  # full-width digits
    ("１３８－１２３４－５６７８", MOBILE),  # full-width digits and dashes
    ("138.1234.5678", MOBILE),
    ("138 1234 5678", MOBILE),
    ("1 3 8 1 2 3 4 5 6 7 8", MOBILE),  # a space between every digit
    ("1-3-8-1-2-3-4-5-6-7-8", MOBILE),
    ("138-1234-5678", MOBILE),
    ("138 - 1234 - 5678", MOBILE),
    ("138\u30001234\u30005678", MOBILE),  # ideographic spaces
    ("+86 138 1234 5678", "+86 " + MOBILE),
    ("+8613812345678", "+86 " + MOBILE),
    ("＋８６ １３８１２３４５６７８", "+86 " + MOBILE),
    ("0086-13812345678", "0086 " + MOBILE),
    ("0086 138 1234 5678", "0086 " + MOBILE),
    ("86-138-1234-5678", "86 " + MOBILE),
    ("8613812345678", "86 " + MOBILE),
    ("(+86)13812345678", "+86 " + MOBILE),
    ("tel13812345678", "tel" + MOBILE),
    ("手机：138 1234 5678，下午都在", f"手机：{MOBILE}，下午都在"),
    ("SQ20261123-0007 13812345678", f"SQ20261123-0007 {MOBILE}"),  # the ticket number stays
    ("2026-11-23 13812345678", f"2026-11-23 {MOBILE}"),  # the date stays
    # ---- ID-card numbers
    ("110101199003074518", ID18),
    ("11010119900307451X", "110101********451X"),
    ("11010119900307451x", "110101********451x"),
    ("110101 19900307 4518", ID18),  # 6-8-4
    ("110101-19900307-4518", ID18),
    ("1101 0119 9003 0745 18", ID18),  # groups of 4
    ("110101 1990 0307 4518", ID18),
    ("１１０１０１１９９００３０７４５１８", ID18),
    ("１１０１０１１９９００３０７４５１Ｘ", "110101********451X"),
    ("ID110101199003074518", "ID" + ID18),
    ("id:110101199003074518", "id:" + ID18),
    ("ID: 1101 0119 9003 0745 18", "ID: " + ID18),
    ("sfz110101199003074518", "sfz" + ID18),
    ("身份证号：110101199003074518", "身份证号：" + ID18),
    ("110101900307451", "110101******451"),  # 15-digit old card
    ("110101 900307 451", "110101******451"),
    # ---- landlines
    ("(0571)8888-1234", LANDLINE),
    ("（0571）88881234", LANDLINE),
    ("0571 88881234", LANDLINE),
    ("0571-88881234", LANDLINE),
    ("0571-8888-1234", LANDLINE),
    ("057188881234", LANDLINE),
    ("010-62345678", "010-****5678"),
    ("0571-7654321", "0571-***4321"),  # a 7-digit local number
    ("0571-87654321转123", "0571-****4321转123"),  # the extension stays
    # ---- not personal numbers: left exactly as they are
    ("SQ20261123-0007", None),
    ("sq20261123-0007", None),
    ("2026-11-23", None),
    ("20261123", None),
    ("2026年11月23日 09:30", None),
    ("2026-11-23 09:30:00", None),
    ("2026.11.23", None),
    ("09:30-17:00", None),
    ("¥13,800.00", None),
    ("13800元", None),
    ("1380000000", None),  # 10 digits
    ("138123456789", None),  # 12 digits starting with 1
    ("2026", None),
    ("000105001000", None),  # 事项基本编码
    ("330100-000105001000", None),
    ("11330100002491710N3330117004000", None),  # 事项实施编码
    ("91330100MA2CFH1234", None),  # 统一社会信用代码
    ("12345", None),
    ("110", None),
    ("400-123-4567", None),  # a service number, not a person's
    ("139.224.123.45", None),  # an IP address
    ("3.11.7", None),
    ("-1001234567890", None),  # a Telegram group id
    ("订单号 20261123123456789", None),
    ("Python 3.11.7 (main, Nov 26 2026, 10:53:16)", None),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_every_spelling(text: str, expected: str | None):
    assert mask_pii(text) == (text if expected is None else expected)


def test_the_table_is_broad():
    positives = [c for c in CASES if c[1] is not None]
    negatives = [c for c in CASES if c[1] is None]
    assert len(positives) >= 40 and len(negatives) >= 20


def test_masking_is_idempotent_and_keeps_the_text_around():
    text = "联系人王女士，电话 138.1234.5678，身份证 1101 0119 9003 0745 18，座机 (0571)8888-1234。谢谢！"
    once = mask_pii(text)
    assert once == f"联系人王女士，电话 {MOBILE}，身份证 {ID18}，座机 {LANDLINE}。谢谢！"
    assert mask_pii(once) == once


def test_contact_phone_field():
    assert mask_phone("13812345678") == MOBILE
    assert mask_phone("0571-87654321转123") == "0571-****4321转123"
    assert mask_phone("12345") == "*2345"  # whatever a field holds, only the last 4 digits stay
    assert mask_phone(None) == ""


# --------------------------------------------------------------------------------------------- channels

# spellings the earlier masker let through: dots, groups of 4, full-width digits, brackets
DESCRIPTION = "楼道堆物 138.1234.5678 身份证1101 0119 9003 0745 18 座机(0571)8888-1234"
RAW = ["138.1234.5678", "1101 0119 9003 0745 18", "8888-1234", "1234 5678", "0119 9003"]


def assert_masked(text: str) -> None:
    for raw in RAW:
        assert raw not in text, f"{raw!r} shown in {text!r}"


async def _ticket_db(tmp_path):
    db = tmp_path / "t.db"
    service = await make_service(db, FixedClock(at(2026, 11, 20, 9, 0)))
    ticket = await service.create(
        citizen_id="c1", description=DESCRIPTION, category="城乡建设", phone="0571-88881234"
    )
    return db, service, ticket


async def test_staff_group_post_is_masked(tmp_path):
    _, service, ticket = await _ticket_db(tmp_path)
    try:
        posts = [n for n in await outbox(service) if n.recipient.kind == "department"]
        (post,) = posts
        assert ticket.number in post.reply.html
        assert_masked(post.reply.html)
        assert MOBILE in post.reply.html and ID18 in post.reply.html and LANDLINE in post.reply.html
    finally:
        await service.store.close()


async def test_digest_is_masked(tmp_path):
    from bot.core.tickets.reporting.digest import build_digest

    _, service, ticket = await _ticket_db(tmp_path)
    try:
        await service.store.questions.log(
            "c5", "我的手机 １３８ １２３４ ５６７８ 为什么查不到", "unknown", None, False
        )
        await service.store.questions.log(
            "c5", "我的手机 １３８ １２３４ ５６７８ 为什么查不到", "unknown", None, False
        )
        service.clock.set(at(2026, 11, 23, 9, 0))
        for period in ("day", "week", "month"):
            html = (
                await build_digest(
                    service.store, now=service.clock.now(), period=period, policies=service.policies
                )
            ).html
            assert_masked(html)
            assert "１２３４" not in html
        daily = (await build_digest(service.store, now=service.clock.now(), policies=service.policies)).html
        assert ticket.number in daily and "楼道堆物 138****5678" in daily  # the red list's summary
        assert f"我的手机 {MOBILE} 为什么查不到" in daily  # the knowledge gaps
    finally:
        await service.store.close()


def test_log_record_through_the_filter():
    from bot.adapters.telegram.masking import MaskingFilter

    try:
        raise ValueError(f"诉求人写道：{DESCRIPTION}")
    except ValueError:
        record = logging.LogRecord(
            "bot.test",
            logging.ERROR,
            __file__,
            1,
            "新诉求：%s，电话 %s",
            (DESCRIPTION, "１３８１２３４５６７８"),
            sys.exc_info(),
        )
    assert MaskingFilter().filter(record)
    text = logging.Formatter().format(record)
    assert_masked(text)
    assert "１３８１２３４５６７８" not in text
    assert text.count(MOBILE) == 3 and "Traceback" in text  # message (twice) and traceback


async def test_error_handler_output_is_masked(caplog: pytest.LogCaptureFixture):
    from bot.adapters.telegram import bridge_of, build_application
    from bot.adapters.telegram.masking import MaskingFilter
    from tests.conftest import make_settings
    from tests.tg_standin import TOKEN

    app = build_application(make_settings(telegram_bot_token=TOKEN), SimpleNamespace(outbox=None), jobs=False)
    caplog.handler.addFilter(MaskingFilter())
    with caplog.at_level(logging.ERROR, logger="bot.telegram"):
        try:
            raise RuntimeError(f"保存失败：{DESCRIPTION}")
        except RuntimeError as exc:
            await bridge_of(app).on_error(None, SimpleNamespace(error=exc))
    assert "RuntimeError" in caplog.text and "Traceback" in caplog.text
    assert_masked(caplog.text)
    assert MOBILE in caplog.text and ID18 in caplog.text


def _cli(argv: list[str]) -> int:
    from bot.cli import main

    return main(argv)


async def test_tickets_list_is_masked(tmp_path, capsys):
    db, service, ticket = await _ticket_db(tmp_path)
    await service.store.close()
    assert await asyncio.to_thread(_cli, ["tickets", "list", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert ticket.number in out and "楼道堆物 138****5678" in out
    assert_masked(out)


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
async def test_tickets_export_mask(tmp_path, capsys, fmt):
    db, service, ticket = await _ticket_db(tmp_path)
    await service.claim(ticket.number, "h-cg")
    await service.resolve(ticket.number, "h-cg", "已联系 138.1234.5678 的王女士，清理完毕")
    await service.store.close()
    out = tmp_path / f"t.{fmt}"
    argv = ["tickets", "export", "--format", fmt, "--mask", "-o", str(out), "--db", str(db)]
    assert await asyncio.to_thread(_cli, argv) == 0
    text = out.read_text(encoding="utf-8")
    assert_masked(text)
    if fmt == "csv":
        (row,) = list(csv.DictReader(out.open(encoding="utf-8")))
    else:
        (row,) = [json.loads(line) for line in text.splitlines()]
    assert row["description"] == f"楼道堆物 {MOBILE} 身份证{ID18} 座机{LANDLINE}"
    assert row["phone"] == LANDLINE
    # without --mask the export is the full record, for whoever is allowed to have it
    plain = tmp_path / f"plain.{fmt}"
    argv = ["tickets", "export", "--format", fmt, "-o", str(plain), "--db", str(db)]
    assert await asyncio.to_thread(_cli, argv) == 0
    assert "138.1234.5678" in plain.read_text(encoding="utf-8")


async def test_ticket_creation_log_never_shows_part_of_a_number(tmp_path, caplog: pytest.LogCaptureFixture):
    # the log line shortens the description to 40 characters: masking must come first, or a number cut at
    # the 40th character would no longer look like one and be logged in clear
    service = await make_service(tmp_path / "t.db", FixedClock(at(2026, 11, 20, 9, 0)))
    try:
        with caplog.at_level(logging.INFO, logger="bot.core.tickets.service"):
            await service.create(
                citizen_id="c1",
                description="小区门口的路灯坏了好几天都没有人来修，晚上很黑，麻烦尽快处理，电话13812345678",
                category="城乡建设",
            )
    finally:
        await service.store.close()
    (line,) = [r.getMessage() for r in caplog.records if "created" in r.getMessage()]
    assert "138123" not in line and "电话138***" in line
