"""Answers on the shipped knowledge base say the facts a person needs, correctly."""

from bot.core.answering.render import Renderer


def test_bundle_materials_say_which_item_needs_them(real_kb):
    html = Renderer(real_kb).answer(real_kb.get("bundle-birth"), "materials")
    assert "〔用于：" in html and "出生登记（新生儿落户）" in html
    assert "不再需要提交" in html


def test_natural_day_limits_are_not_called_working_days(real_kb):
    html = Renderer(real_kb).answer(real_kb.get("divorce-register"), "time")
    assert "30日" in html and "30个工作日" not in html


def test_id_card_fee_and_legal_limit(real_kb):
    r = Renderer(real_kb)
    assert "20元" in r.answer(real_kb.get("id-card-first"), "fee")
    assert "法定 60日" in r.answer(real_kb.get("id-card-first"), "time")


def test_marriage_registration_is_on_the_spot_and_free(real_kb):
    r = Renderer(real_kb)
    assert "即办" in r.answer(real_kb.get("marriage-register"), "time")
    assert "不收费" in r.answer(real_kb.get("marriage-register"), "fee")


def test_every_answer_names_source_and_date(real_kb):
    r = Renderer(real_kb)
    for entry in list(real_kb.entries.values())[::10]:
        html = r.answer(entry, None if entry.kind == "exemption" else "overview")
        assert "信息来源" in html and "最近核对" in html, entry.id
