"""From formal names to everyday words, and families of variants: imported items are found by the words people
use, a question that names a matter but not its variant is asked which one (with buttons), and a question or a
short reply that says the variant gets it."""

from __future__ import annotations

import pytest

from bot.core.answering.cues import load_cues
from bot.core.knowledge.catalog import apply_import, plan_import
from bot.core.messages import Incoming

from .catalog_helpers import TODAY, write_departments_shape
from .conftest import make_settings


@pytest.fixture(scope="module")
def names():
    return load_cues().names


def test_a_formal_name_gives_its_stem_family_variant_and_everyday_phrases(names):
    p = names.parts("烟草专卖零售许可证延续")
    assert p.stem == "烟草专卖零售许可证" and p.kinds == {"renew"}
    phrases = {text for text, _ in p.phrases}
    assert {"烟草专卖零售许可证", "烟草证"} <= phrases
    assert (
        names.parts("烟草专卖零售许可证新办").family
        == p.family
        == names.parts("烟草专卖零售许可证补办").family
    )
    q = names.parts("客运车辆道路运输证办理（补办）")
    assert q.kinds == {"replace"} and "客运车辆道路运输证" in {t for t, _ in q.phrases}
    assert "客车道路运输证" in {t for t, _ in q.phrases}  # an everyday word in the formal term's place
    r = names.parts("医疗机构执业审批（新办）（县级）")
    assert r.kinds == {"new"} and r.family == names.parts("医疗机构执业审批（注销）（县级）").family
    assert "县级" not in "".join(t for t, _ in r.phrases)  # level markers are dropped
    assert names.asked("烟草证快到期了") == {"renew"} and names.asked("营业执照丢了") == {"replace"}
    assert "new" in names.asked("想开个网吧")


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory):
    from bot.app import DataPaths, load_answering

    tmp = tmp_path_factory.mktemp("catalogue")
    plan = plan_import(write_departments_shape(tmp / "catalogue.json"), tmp / "kb", today=TODAY)
    apply_import(plan)
    return load_answering(DataPaths.resolve(make_settings(knowledge_dir=tmp / "kb")))


def _name(answering, entry_id):
    return answering.kb.get(entry_id).name


def test_everyday_questions_reach_imported_items(catalogue):
    m = catalogue.matcher
    for question, name in [
        ("烟草证快到期了", "烟草专卖零售许可证延续"),
        ("卖烟许可证丢了怎么补", "烟草专卖零售许可证补办"),
        ("小店不开了，烟草证要注销吗", "烟草专卖零售许可证注销"),
        ("城里养狗要办狗证吗", "犬类准养证核发"),
        ("河里挖沙要办什么许可", "河道采砂许可"),
    ]:
        u = m.understand(question)
        assert u.target is not None and _name(catalogue, u.target) == name, (question, u.target, u.candidates)
        assert not u.family, question


async def test_a_question_without_the_variant_is_asked_which_one_with_buttons(catalogue, clock):
    from bot.core.assistant import Assistant

    a = Assistant(catalogue, clock)
    [reply] = await a.handle(Incoming("c", "c", text="烟草证怎么办"))
    labels = [b.label for row in reply.buttons for b in row]
    for variant in ("新办", "延续", "补办", "变更", "注销"):
        assert any(variant in label for label in labels), (variant, labels)
    assert "哪一项" in reply.html
    # a short reply that says the variant picks it
    [reply] = await a.handle(Incoming("c", "c", text="快到期了"))
    assert "烟草专卖零售许可证延续" in reply.html
    # and a pressed button answers that variant
    [reply] = await a.handle(Incoming("d", "d", text="烟草零售许可证要怎么弄"))
    data = next(b.data for row in reply.buttons for b in row if "补办" in b.label)
    [reply] = await a.handle(Incoming("d", "d", callback=data))
    assert "烟草专卖零售许可证补办" in reply.html


def test_the_contract_of_a_family_question(catalogue):
    u = catalogue.matcher.understand("烟草证")
    assert u.intent == "item" and u.ambiguous and len(u.family) == 5
