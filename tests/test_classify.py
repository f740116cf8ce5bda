"""Appeal routing: hand-written messages (not from any research data set) go to the category a citizen expects."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.core.knowledge.loader import load_knowledge
from bot.core.tickets.classify import AppealClassifier, classify, normalise

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CATEGORIES = [
    "城乡建设",
    "环境保护",
    "交通运输",
    "教育文体",
    "劳动和社会保障",
    "商贸旅游",
    "卫生计生",
    "公安政法",
    "市场监管",
    "政务服务",
    "其他",
]


@pytest.fixture(scope="module")
def appeals_kb(tmp_path_factory):
    d = tmp_path_factory.mktemp("kb_appeals")
    for name in ("appeals.yaml", "departments.yaml"):
        shutil.copy(ROOT / "knowledge" / name, d / name)
    return load_knowledge(d)


EXAMPLES = {
    "城乡建设": [
        "我们小区的物业公司收了物业费却不管事，电梯坏了一个月都没人修",
        "隔壁在楼顶私搭乱建了一层铁皮房，是违章建筑吧",
        "拆迁补偿款到现在还没发，回迁房也迟迟不交付",
        "开发商延期交房快一年了，房产证也办不下来",
        "路边的井盖丢了好几天，下水道一下雨就堵，积水到膝盖",
    ],
    "环境保护": [
        "附近的化工厂晚上偷偷排污水，河里的鱼都死了",
        "楼下饭店的油烟直接往我家窗户排，熏得没法开窗",
        "工地半夜还在施工，噪音太大根本睡不着",
        "村口有人露天焚烧垃圾，黑烟刺鼻",
        "养猪场的粪水直接排进水塘，臭气熏天",
    ],
    "交通运输": [
        "15路公交车班次太少，早上等了四十分钟",
        "出租车司机拒载还绕路，不打表",
        "这段国道坑坑洼洼，货车一过尘土飞扬，希望尽快修路",
        "高速收费站每天都堵车，能不能多开几个通道",
        "快递员总是不送上门，包裹直接扔在驿站",
    ],
    "教育文体": [
        "孩子今年上小学，户口在学区内却说没有学位",
        "学校老师在外面办补习班，暗示学生必须参加",
        "幼儿园乱收资料费和校服费",
        "小区旁边的体育馆一直不开放，全民健身没地方去",
        "初中作业太多，孩子每天写到十二点，减负落实不了",
    ],
    "劳动和社会保障": [
        "老板拖欠我们农民工三个月工资，一直不给",
        "公司不给员工交社保，也不签劳动合同",
        "我退休了，养老金一直没有按时发放",
        "在单位上班受伤了，工伤认定怎么申请，公司不配合",
        "被公司辞退了，没有给经济补偿",
    ],
    "商贸旅游": [
        "景区门票太贵，导游还强制我们去购物点消费",
        "旅行社跟团游临时加价，酒店也和宣传的不一样",
        "健身房办了预付卡，老板卷款跑路了",
        "希望多搞一些招商引资，改善营商环境，让步行街热闹起来",
    ],
    "卫生计生": [
        "医院医生态度恶劣，还误诊耽误了病情",
        "社区卫生服务中心打疫苗要排很久，预防接种能不能预约",
        "二孩的生育登记怎么办，准生证在哪里办",
        "村里有人无证行医开黑诊所",
        "住院的医疗费用太高，怀疑过度检查",
    ],
    "公安政法": [
        "晚上有人在小区里打架斗殴，报警了派出所也没来",
        "我被电信诈骗骗走了两万块",
        "门口经常有人聚众赌博",
        "有人酒驾撞了我的车然后逃逸了",
    ],
    "市场监管": [
        "超市卖过期食品，还缺斤短两",
        "在网上买到假货，商家虚假宣传",
        "这家餐馆后厨卫生状况很差，吃出异物",
        "药店卖假药，还没有营业执照",
    ],
    "政务服务": [
        "去政务服务中心办事，窗口工作人员态度差，来回跑了好几趟",
        "审批拖着不办，互相推诿，一拖再拖",
        "网上办理的系统老是崩溃，登录不了",
        "打12345热线一直打不通，无人接听",
    ],
    "其他": [
        "想表扬一下社区的网格员，给他们送锦旗",
        "村里的低保名单不公开，村干部优亲厚友",
        "家里宽带一直断，手机信号也很差",
    ],
}


def test_default_categories_exist_and_route_to_known_departments(appeals_kb):
    assert list(appeals_kb.appeal_categories) == DEFAULT_CATEGORIES
    for cat in appeals_kb.appeal_categories.values():
        assert appeals_kb.department(cat.department) is not None, cat.name
        assert len(cat.keywords) >= 15, f"{cat.name} needs a broad vocabulary"


@pytest.mark.parametrize("expected,text", [(cat, text) for cat, texts in EXAMPLES.items() for text in texts])
def test_hand_written_messages_route_to_the_expected_category(appeals_kb, expected, text):
    ranked = classify(text, appeals_kb)
    assert ranked[0][0] == expected, ranked[:3]


def test_traditional_characters_and_full_width_letters_are_understood(appeals_kb):
    assert classify("工地半夜施工，噪音擾民，臭氣熏天", appeals_kb)[0][0] == "环境保护"
    assert classify("老闆拖欠工資三個月", appeals_kb)[0][0] == "劳动和社会保障"
    assert classify("政务ＡＰＰ登录不了，系統崩潰", appeals_kb)[0][0] == "政务服务"


def test_scores_are_sorted_and_between_zero_and_one(appeals_kb):
    ranked = classify("公交车司机态度恶劣，车上还有人吸烟，噪音很大", appeals_kb)
    assert {n for n, _ in ranked} == set(DEFAULT_CATEGORIES)
    scores = [s for _, s in ranked]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert scores[0] > 0


@pytest.mark.parametrize("text", ["", "   ", "😀😀😀", "！！！？？", "你好"])
def test_text_without_any_domain_word_falls_back_to_other_with_zero_score(appeals_kb, text):
    ranked = classify(text, appeals_kb)
    assert ranked[0] == ("其他", 0.0)
    assert all(s == 0.0 for _, s in ranked)


def test_strong_evidence_scores_higher_than_a_passing_mention(appeals_kb):
    weak = dict(classify("说一下学校的事", appeals_kb))["教育文体"]
    strong = dict(classify("学校老师有偿补课，乱收学费和资料费，学生作业多", appeals_kb))["教育文体"]
    assert strong > weak > 0


def test_very_long_input_is_handled(appeals_kb):
    ranked = classify("拖欠工资" + "啊" * 100_000, appeals_kb)
    assert ranked[0][0] == "劳动和社会保障"


def test_shared_keyword_splits_its_weight_between_categories():
    class Cat:
        def __init__(self, name, keywords):
            self.name, self.keywords = name, keywords

    clf = AppealClassifier([Cat("甲", ["共享词", "甲词"]), Cat("乙", ["共享词"]), Cat("其他", ["其他"])])
    ranked = dict(clf.classify("这里只有共享词"))
    assert ranked["甲"] == pytest.approx(ranked["乙"])
    assert clf.classify("共享词和甲词")[0][0] == "甲"


def test_normalise_folds_traditional_width_and_case():
    assert normalise("醫院ＡＰＰ") == "医院app"
