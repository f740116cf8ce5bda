"""Answers people can trust (issue 10): follow-ups stay on the conversation's topic, numbers and emergencies are
not taken for questions about an entry, nothing outside the base gets a confident wrong answer, and the answers
say what the person asked (coverage of a 免证明, the amount of a benefit, the time window, several aspects).

Phrasings here are written for these tests, not taken from the evaluation sets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.core.assistant import Assistant
from bot.core.messages import Incoming

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def assistant(real_answering, clock):
    return Assistant(real_answering, clock)


async def say(a, text, user="u1"):
    return await a.handle(Incoming(user, user, text=text))


async def press(a, data, user="u1"):
    return await a.handle(Incoming(user, user, callback=data))


def understand(a, text, user="u1"):
    return a.dialogue.understand_in_context(user, text)


def labels(replies):
    return [b.label for r in replies for row in r.buttons for b in row]


def datas(replies):
    return [b.data for r in replies for row in r.buttons for b in row]


# -- follow-ups --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("follow_up", "aspect", "shown"),
    [
        ("那在哪办", "location", "办理地点"),
        ("网上能办吗", "online", "网上办理"),
        ("在哪里办", "location", "办理地点"),
        ("几点上班", "location", "办理地点"),
        ("电话多少", "location", "电话"),
        ("多久能拿到", "time", "办理时限"),
        ("这个要收费吗", "fee", "120元"),
    ],
)
async def test_a_follow_up_that_names_nothing_answers_about_the_topic(assistant, follow_up, aspect, shown):
    await say(assistant, "护照怎么办")
    [r] = await say(assistant, follow_up)
    assert "普通护照签发" in r.html and shown in r.html
    got = understand(assistant, "护照怎么办", user="fresh")
    assert got.target == "passport"
    got = understand(assistant, follow_up, user="fresh")
    assert (got.target, got.aspect) == ("passport", aspect)


@pytest.mark.parametrize("follow_up", ["那在哪办", "网上能办吗", "要多久", "那要多少钱", "这个多少钱"])
async def test_a_follow_up_without_a_conversation_asks_which_matter(assistant, follow_up):
    [r] = await say(assistant, follow_up)
    assert "哪个事项" in r.html
    assert not any(d.startswith(("a:", "pick:")) for d in datas([r]))
    assert understand(assistant, follow_up, user="nobody").target is None


async def test_naming_another_entry_switches_topic(assistant):
    await say(assistant, "营业执照丢了")
    [r] = await say(assistant, "那刻章怎么办")
    assert "公章刻制" in r.html
    [r] = await say(assistant, "去哪儿刻")
    assert "公章刻制" in r.html and "办理地点" in r.html


async def test_small_talk_keeps_the_topic(assistant):
    await say(assistant, "护照怎么办")
    [thanks] = await say(assistant, "好的谢谢")
    assert "不客气" in thanks.html
    [r] = await say(assistant, "那多少钱")
    assert "普通护照签发" in r.html and "收费" in r.html


# -- numbers and symbols -----------------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["2", "1", "12345"])
async def test_a_bare_number_is_not_a_question(assistant, text):
    [r] = await say(assistant, text)
    assert "没太明白" in r.html and "社保卡丢了怎么补" in r.html
    assert understand(assistant, text, user="n").target is None


async def test_symbols_only_get_a_request_to_say_what_is_needed(assistant):
    [r] = await say(assistant, "？？")
    assert "请用文字说说" in r.html


async def test_a_number_picks_from_a_pending_list_of_choices(assistant):
    [r] = await say(assistant, "公积金提取")
    assert "哪一项" in r.html
    second = r.buttons[1][0].label.split(". ", 1)[1]
    [r2] = await say(assistant, "2")
    assert second in r2.html


# -- emergencies -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "闻到很大的煤气味 好像燃气泄漏了 怎么办",
        "厨房里全是天然气的味道",
        "楼下那家店着火了，烟好大",
        "我妈在卫生间晕倒了叫不醒",
        "有人拿着刀在小区里追人",
        "地下室进水了，水越来越深",
        "孩子放学到现在没回家，电话也打不通",
        "电梯卡在两层中间，里面有人出不来",
        "电线断了掉在路上，还在冒火花",
        "有个孩子掉进河里了",
        "对面楼顶有人坐在边上说要跳下去",
    ],
)
async def test_an_emergency_gets_the_numbers_first_and_an_urgent_ticket_offer(assistant, text):
    u = understand(assistant, text, user="e")
    assert u.intent == "appeal" and u.urgent
    [r] = await say(assistant, text)
    assert "情况紧急" in r.html and any(n in r.html for n in ("119", "110", "120"))
    assert "t:urgent" in datas([r])
    res = assistant.dialogue.callback("u1", "t:urgent")
    assert res.urgent and res.start_ticket == text


async def test_a_gas_leak_also_shows_the_local_gas_hotline(assistant, real_answering):
    [r] = await say(assistant, "家里一股煤气味，好像漏气了")
    gas = real_answering.kb.hotlines["燃气抢修"]
    assert gas.number in r.html and "119" in r.html


@pytest.mark.parametrize(
    "text",
    [
        "燃气报装需要什么材料",
        "消防验收去哪个部门办",
        "上周被困电梯了，物业到现在也没个说法",
        "身份证在火灾中烧毁了怎么补办",
        "救命 这个网站太难用了",
        "十万火急！社保卡丢了怎么补",
        "小区楼道堆满杂物，消防通道被堵了",
        "护照怎么办",
        "我的诉求怎么样了",
        "对面工地半夜还在打桩",
    ],
)
async def test_ordinary_messages_are_not_urgent(assistant, text):
    assert not understand(assistant, text, user="o").urgent
    replies = await say(assistant, text, user="o2")
    assert not any("情况紧急" in r.html for r in replies)


# -- nothing confident outside the base --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "near"), [("宠物护照怎么办", "passport"), ("异地办身份证", "id-card-first")]
)
async def test_a_near_miss_is_not_answered_with_the_near_entry(assistant, text, near):
    u = understand(assistant, text, user="x")
    assert u.target is None and u.intent == "unknown"
    [r] = await say(assistant, text)
    assert "不在我们的办事指南里" in r.html
    assert f"pick:{near}:overview" in datas([r])  # offered as a button, not given as the answer
    assert "t:new" in datas([r])


@pytest.mark.parametrize(
    ("text", "near"),
    [
        ("保安员执业证书怎么申请", "physician-register"),
        ("社保卡密码忘了", "social-card-apply"),
        # two things the entry does not explain, one of them a plain noun: about more than the entry
        ("医保卡余额能取现金吗", "social-card-apply"),
    ],
)
async def test_a_document_or_thing_the_entry_does_not_explain_is_not_answered_with_it(assistant, text, near):
    # the noun that names the document ("保安员…执业证书") or the head of the compound ("…卡密码") is not what the
    # near entry is about, whatever words they share
    u = understand(assistant, text, user="d")
    assert u.target is None and u.intent == "unknown"
    [r] = await say(assistant, text, user="d2")
    assert "不在我们的办事指南里" in r.html


async def test_a_certificate_asked_about_inside_a_conversation_gets_its_exemption_answer(assistant):
    await say(assistant, "教师资格认定要准备什么")
    u = understand(assistant, "那还要开无犯罪记录证明吗")
    assert (u.intent, u.target) == ("exemption", "exempt-no-crime")
    # the conversation's item is still what "要多久" asks about, and "这个证明" still the certificate
    u = understand(assistant, "认定要多久")
    assert (u.target, u.aspect) == ("teacher-qualification", "time")


async def test_what_about_another_matter_turns_to_it_and_a_short_remark_stays_on_the_topic(assistant):
    await say(assistant, "开个小餐馆要办哪些证")
    u = understand(assistant, "消防检查那块呢")
    assert u.target == "fire-safety-inspection"
    await say(assistant, "结婚登记要预约吗", user="r")
    u = understand(assistant, "照片是自己带还是到那边拍", user="r")
    assert u.intent == "item" and u.target == "marriage-register"


async def test_after_an_exemption_answer_a_follow_up_goes_back_to_the_item(assistant):
    await say(assistant, "办个体工商户营业执照")
    await say(assistant, "经营场所证明还要吗")
    u = understand(assistant, "这个证明去哪开")
    assert u.target == "exempt-premises"
    u = understand(assistant, "多久能拿到执照")
    assert (u.target, u.aspect) == ("individual-business-setup", "time")


async def test_no_match_answer_promises_nothing_before_a_ticket_exists(assistant):
    [r] = await say(assistant, "红烧肉怎么做")
    assert "小时" not in r.html and "受理后" in r.html


# -- answers that say what was asked -----------------------------------------------------------------------
async def test_exemption_answer_says_first_whether_the_named_item_is_covered(assistant):
    [r] = await say(assistant, "办低保还要开收入证明吗")
    first = r.html.split("\n")[1]
    assert "最低生活保障" in first and "不用再自己开具" in first
    [r] = await say(assistant, "办结婚登记还要开收入证明吗", user="u3")
    first = r.html.split("\n")[1]
    assert "结婚登记" in first and "不在" in first
    assert "不用再自己开具" not in r.html
    assert "a:materials:marriage-register" in datas([r])  # its own materials, one press away


async def test_a_benefit_answers_how_much_with_its_amount(assistant):
    [r] = await say(assistant, "生育津贴能拿多少钱")
    assert "发放标准" in r.html and "产假天数" in r.html
    assert "本事项<b>不收费</b>" not in r.html


async def test_the_time_answer_gives_the_window_from_the_data(assistant):
    [r] = await say(assistant, "企业年报什么时候报")
    assert "1月1日至6月30日" in r.html


async def test_a_question_with_several_aspects_gets_each_of_them(assistant):
    [r] = await say(assistant, "护照要什么材料 多少钱 在哪办")
    for section in ("【申请材料】", "【收费标准】", "【办理地点】"):
        assert section in r.html
    assert r.html.index("【申请材料】") < r.html.index("【收费标准】") < r.html.index("【办理地点】")
    u = understand(assistant, "护照要什么材料 多少钱 在哪办", user="m")
    assert set(u.aspects) == {"materials", "fee", "location"}


# -- mixed language ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("第一次办passport", "passport"),
        ("business license丢了", "license-reissue"),
        ("temporary ID card当场能拿吗", "id-card-temp"),
        ("I lost my ID card", "id-card-reissue"),
        ("gjj zufang tiqu", "hpf-withdraw-rent"),
        ("gjj goufang tiqu", "hpf-withdraw-purchase"),
        ("shebaoka buban", "social-card-reissue"),
        ("driver's license快过期了", "driver-license-renew"),
    ],
)
def test_english_words_and_pinyin_phrases_are_understood(real_matcher, text, target):
    assert real_matcher.understand(text).target == target


# -- the service centre and one's own 诉求 -----------------------------------------------------------------
@pytest.mark.parametrize("text", ["政务服务中心在哪", "办事大厅几点下班", "政务大厅能停车吗"])
async def test_centre_questions_get_the_centre_facts(assistant, real_answering, text):
    [r] = await say(assistant, text)
    centre = real_answering.kb.service_centre
    assert centre.address in r.html and centre.hours[0] in r.html
    u = understand(assistant, text, user="c")
    assert u.target is None and u.topic == "centre"


def test_a_wrong_centre_file_names_the_file_and_field(tmp_path):
    import shutil

    from bot.core.knowledge import KnowledgeError, load_knowledge

    kb = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", kb)
    text = (kb / "centre.yaml").read_text(encoding="utf-8").replace("  phone:", "  telephone:")
    (kb / "centre.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(KnowledgeError) as err:
        load_knowledge(kb)
    assert any("centre.yaml" in p and "service_centre" in p and "phone" in p for p in err.value.problems)


async def test_status_question_without_tickets_says_how_to_check(assistant):
    [r] = await say(assistant, "我的诉求怎么样了")
    assert "/my" in r.html and "12345" in r.html


async def test_status_question_shows_the_persons_tickets(tmp_path, clock, build_app):
    app = await build_app(tmp_path / "t.db", clock)
    a = app.assistant
    mine = await a.handle(Incoming("c9", "c9", text="/my"))
    replies = await a.handle(Incoming("c9", "c9", text="我上次投诉的事处理到哪了"))
    assert [r.html for r in replies] == [r.html for r in mine]


# -- appeals told as stories -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "楼上把承重墙砸了，我家天花板裂了好几道缝",
        "隔壁酒吧每天放音乐到凌晨三点，整栋楼都睡不着",
        "小区后面那条路挖了一半就停工了，三个月没人管",
        "台风过后倒在人行道上的大树到现在还横着",
        "交电费的小程序最后一步付款一直报错",
        "干了三个月活，老板一分钱工资没发",
        "建议在医院门口多设几个公交站",
    ],
)
def test_problems_told_without_a_complaint_word_are_appeals(real_matcher, text):
    u = real_matcher.understand(text)
    assert u.intent == "appeal" and not u.urgent and u.target is None


# -- the match --jsonl contract, with sessions -------------------------------------------------------------
def test_match_jsonl_understands_a_session_in_order():
    lines = [
        {"text": "护照怎么办", "session": "a"},
        {"text": "那要多少钱", "session": "b"},
        {"text": "那要多少钱", "session": "a"},
        "那在哪办",
        {"text": "闻到煤气味了，好像漏气了"},
        {"text": "好的谢谢", "session": "a"},
        {"text": "网上能办吗", "session": "a"},
    ]
    stdin = "\n".join(x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in lines) + "\n"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KNOWLEDGE_", "INTENTS_", "TEMPLATES_"))}
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "match", "--jsonl"],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    out = [json.loads(x) for x in proc.stdout.splitlines()]
    assert len(out) == len(lines)
    assert (out[0]["target"], out[0]["urgent"]) == ("passport", False)
    assert out[1]["target"] is None  # session b has no context
    assert (out[2]["intent"], out[2]["target"], out[2]["aspect"]) == ("item", "passport", "fee")
    assert out[3]["target"] is None  # a plain line is a conversation of its own
    assert (out[4]["intent"], out[4]["urgent"]) == ("appeal", True)
    assert out[5]["intent"] == "smalltalk"
    assert (out[6]["target"], out[6]["aspect"]) == ("passport", "online")
    assert [o["text"] for o in out] == [x if isinstance(x, str) else x["text"] for x in lines]


# -- later rounds: materials of the topic, other acts, statements, acknowledgements -----------------------
async def test_naming_a_material_of_the_topic_stays_on_the_topic(assistant):
    await say(assistant, "孩子第一次办身份证")
    [r] = await say(assistant, "户口本要带吗")
    assert "居民身份证首次申领" in r.html and "申请材料" in r.html


async def test_losing_that_document_is_its_own_matter(assistant):
    await say(assistant, "门诊慢特病怎么申请")
    [r] = await say(assistant, "医保卡丢了怎么办")
    assert "社会保障卡" in r.html and "门诊慢特病" not in r.html.split("\n")[0]


@pytest.mark.parametrize(
    ("text", "near"),
    [("房产证丢了怎么补发", "realestate-query"), ("驾驶证年审在哪审", "driver-license-renew")],
)
async def test_an_entry_about_another_act_is_not_the_answer(assistant, real_answering, text, near):
    u = understand(assistant, text, user="act")
    assert u.target is None
    [r] = await say(assistant, text)
    assert "不包括" in r.html and real_answering.kb.get(near).name in r.html
    assert f"pick:{near}:overview" in datas([r])


def test_a_report_told_as_a_plain_statement_is_an_appeal(real_matcher):
    assert real_matcher.understand("驾校收了钱两个月都没安排练车").intent == "appeal"
    # a topic named without telling anything is not a report
    assert real_matcher.understand("对外贸易经营者备案").intent != "appeal"


async def test_an_acknowledgement_keeps_the_topic(assistant):
    await say(assistant, "结婚登记要带什么")
    [ok] = await say(assistant, "嗯")
    assert "好的" in ok.html and "结婚登记" not in ok.html
    [r] = await say(assistant, "收不收钱")
    assert "结婚登记" in r.html and "收费" in r.html
