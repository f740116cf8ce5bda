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


def test_the_families_of_a_whole_base_are_those_of_each_name(names):
    # the matcher finds every item's family in one batch (a 100,000-item base); it must group exactly as one
    # name at a time does, or a variant would be asked about with the wrong siblings
    some = [
        "烟草专卖零售许可证新办",
        "烟草专卖零售许可证（延续）",
        "医疗机构执业审批（新办）（县级）",
        "医疗机构执业审批（注销）（县级）",
        "停业登记",
        "新办",
        "《食品经营许可证》核发",
        "ｆｕｌｌ　ｗｉｄｔｈ登记（变更）",
        "客运车辆道路运输证办理（补办）",
        "个体工商户 设立登记",
    ]
    assert names.families(some) == [names.family(n) for n in some]
    assert names.families(some)[0][0] == names.families(some)[1][0] != names.families(some)[2][0]
    assert names.families(some)[2] == (names.families(some)[3][0], frozenset({"new"}))


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


def test_words_inside_formal_names_typed_in_pinyin_reach_the_item(catalogue):
    # 取水 and 河道 are words inside longer formal names, never phrases of their own
    for question, name in [
        ("qushui许可证怎么办", "取水许可证新办审批（县级）"),
        ("hedao采砂要许可吗", "河道采砂许可"),
    ]:
        u = catalogue.matcher.understand(question)
        assert u.target is not None and _name(catalogue, u.target) == name, (question, u.candidates)


def test_an_imported_item_that_explains_the_question_is_answered_and_a_partial_one_is_not(catalogue):
    m = catalogue.matcher
    # the question names part of a long formal name in its own words, and no other matter comes close
    u = m.understand("工地上要从河里取水用，取水审批怎么走")
    assert u.target is not None and _name(catalogue, u.target) == "取水许可证新办审批（县级）", u.candidates
    # most of what this one is about (灌溉, 水务…) the item does not explain: no answer is guessed
    u = m.understand("家里田边打口井抽水灌溉，取水要不要去水务局审批")
    assert u.target is None and u.candidates


def test_contractions_and_certificate_names_are_derived_from_formal_names(names):
    # nobody writes 社团 for 社会团体 or 采矿证 for 采矿权 by hand: they come from the names themselves
    assert "社团登记" in {t for t, _ in names.parts("社会团体变更登记").phrases}
    assert "社保卡" in {t for t, _ in names.parts("社会保障卡启用（激活）").phrases}
    assert "采矿证" in {t for t, _ in names.parts("采矿权延续登记").phrases}
    assert "捕捞证" in {t for t, _ in names.parts("渔业捕捞许可审批").phrases}


@pytest.fixture(scope="module")
def merged(tmp_path_factory):
    """The shipped base written by hand, with a small catalogue imported beside it."""
    import json
    import shutil

    from bot.app import DataPaths, load_answering
    from bot.core.resources import data_dir

    tmp = tmp_path_factory.mktemp("merged")
    shutil.copytree(data_dir("knowledge"), tmp / "kb")
    rows = [
        {"事项名称": n, "实施主体": d}
        for n, d in [
            ("发票领用(县级行使）", "县税务局"),
            ("残疾人证新办", "县残联"),
            ("残疾人证注销", "县残联"),
            ("残疾人证挂失补办", "县残联"),
            ("零售商促销备案", "县商务局"),
            ("义诊活动备案", "县卫健局"),
            ("医疗机构执业登记", "县卫健局"),
            # 活动 is a word many items use, as in a real catalogue
            ("大型群众性活动安全许可", "县公安局"),
            ("宗教活动场所登记审批", "县民宗局"),
            ("举办焰火晚会以及其他大型焰火燃放活动许可", "县公安局"),
            ("临时宗教活动地点审批", "县民宗局"),
            ("户外广告活动备案", "县综合执法局"),
            # one thing named in different words: not one family, told apart by the act asked for
            ("开办互联网上网服务营业场所", "县文广旅局"),
            ("内资设立互联网上网服务营业场所筹建审批", "县文广旅局"),
            ("互联网上网服务营业场所经营单位变更审批", "县文广旅局"),
            ("互联网上网服务营业场所经营单位补证审批", "县文广旅局"),
            ("互联网上网服务营业场所经营单位注销审批", "县文广旅局"),
            ("入河排污口设置审批(市级)", "县生态环境局"),
        ]
    ]
    (tmp / "catalogue.json").write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    plan = plan_import(tmp / "catalogue.json", tmp / "kb", today=TODAY)
    assert not plan.errors
    apply_import(plan)
    return load_answering(DataPaths.resolve(make_settings(knowledge_dir=tmp / "kb")))


def test_an_imported_item_the_base_already_holds_is_answered_by_the_entry_written_by_hand(merged):
    m = merged.matcher
    # the same 事项 twice: the entry written by hand (with its materials and fees) answers, under either name
    assert m.understand("申领发票要带什么").target == "invoice-apply"
    assert m.understand("发票领用（县级行使）").target == "invoice-apply"
    assert _name(merged, m.duplicates[next(iter(m.duplicates))])  # the imported item stays in the base
    assert merged.kb.get(next(d for d, o in m.duplicates.items() if o == "invoice-apply")).name.startswith(
        "发票领用"
    )
    # a question that names no variant gets the matter as written by hand; one that names a variant gets it
    assert m.understand("怎么办残疾证").target == "disability-cert"
    lost = m.understand("残疾证丢了怎么补")
    assert _name(merged, lost.target) == "残疾人证挂失补办"


def test_an_imported_item_is_chosen_by_the_telling_words_it_explains(merged):
    m = merged.matcher
    u = m.understand("店里搞促销要备案吗")  # 促销 is one item's word, 备案 everyone's
    assert u.intent == "item" and _name(merged, u.target) == "零售商促销备案"
    # the telling word of this question is in no entry: nothing is answered
    assert m.understand("店里搞直播带货要备案吗").target is None


def test_the_act_asked_for_picks_the_item_among_items_about_one_thing(merged, names):
    m = merged.matcher
    assert _name(merged, m.understand("网吧的许可证丢了").target) == "互联网上网服务营业场所经营单位补证审批"
    # a qualifier says the variant: the 发放 every variant shares is not the new one
    assert names.family("网络预约出租汽车运输证发放（补办）")[1] == {"replace"}
    assert names.family("网络预约出租汽车运输证发放（新增）")[1] == {"new"}
    assert names.asked("开客运站需要什么许可") == {"new"}


def test_a_question_about_a_procedure_reaches_the_item_even_with_a_complaints_word(merged):
    m = merged.matcher
    asked = m.understand("往河里设排污口要审批吗")
    assert asked.intent == "item" and _name(merged, asked.target) == "入河排污口设置审批(市级)"
    # the same words told as a complaint stay a complaint
    assert m.understand("河边有个厂偷偷设排污口往河里排污水，臭得不行").intent == "appeal"
