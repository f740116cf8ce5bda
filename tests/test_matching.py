"""What a person types, and what the matcher understands, on the shipped knowledge base.

Phrasings here are written for these tests (not taken from the dev set) and cover the ways people really type:
typos, traditional characters, pinyin, colloquial life situations, long messages.
"""

import pytest


@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("社宝卡丢了要怎么补", "social-card-reissue"),
        ("身分证过期了想换个新的", "id-card-renew"),
        ("公基金租房提取怎么弄", "hpf-withdraw-rent"),
        ("户口薄丢了", "hukou-book-reissue"),
        ("護照怎麼申請", "passport"),
        ("營業執照遺失了", "license-reissue"),
        ("ＨＵＫＯＵ迁出", "hukou-move-out"),
        ("shebaoka怎么申请", "social-card-apply"),
        ("gjj贷款", "hpf-loan"),
        ("孩子刚出生要办啥", "bundle-birth"),
        ("想开家面馆要办哪些证", "bundle-restaurant"),
        ("驾照到期了换证", "driver-license-renew"),
        ("我们俩想去领证结婚", "marriage-register"),
    ],
)
def test_finds_the_item_people_mean(real_matcher, text, target):
    u = real_matcher.understand(text)
    assert u.target == target, (text, u.target, [c.id for c in u.candidates])
    assert u.intent == "item"
    assert 0.0 <= u.score <= 1.0


@pytest.mark.parametrize(
    ("text", "aspect"),
    [
        ("结婚登记要收费吗", "fee"),
        ("结婚登记在哪里办", "location"),
        ("结婚登记要带哪些材料", "materials"),
        ("结婚登记能在网上预约吗", "online"),
        ("补办身份证要多长时间", "time"),
        ("补办身份证的流程是怎样的", "process"),
        ("补办身份证需要满足什么条件", "conditions"),
    ],
)
def test_reads_the_aspect_asked_about(real_matcher, text, aspect):
    u = real_matcher.understand(text)
    assert u.aspect == aspect, (text, u.target, u.aspect)


def test_long_rambling_message_still_finds_the_item(real_matcher):
    text = (
        "您好，打扰一下，我想咨询个事情。我老家是外省的，前几年来这边打工，一直租房子住，"
        "最近单位说要给我们办点手续，我也搞不太清楚。主要是想问一下，我的社保卡前两天坐公交的时候"
        "不小心弄丢了，现在看病拿药都不方便，请问要怎么挂失补办？需要带什么东西？谢谢您了，麻烦了。"
    ) * 3
    u = real_matcher.understand(text)
    assert u.target == "social-card-reissue"


@pytest.mark.parametrize(
    "text", ["宠物医院哪家好", "帮我订一张去三亚的机票", "今天股市怎么样", "红烧肉怎么做好吃"]
)
def test_does_not_guess_when_nothing_matches(real_matcher, text):
    u = real_matcher.understand(text)
    assert u.target is None and u.intent == "unknown", (text, u.target, u.score)


@pytest.mark.parametrize(
    "text",
    [
        "小区门口的垃圾好几天没人清运了，我要投诉",
        "举报有人在小区绿地里私搭乱建",
        "工地半夜还在施工，噪音扰民，谁来管管",
    ],
)
def test_complaints_and_reports_are_appeals(real_matcher, text):
    assert real_matcher.understand(text).intent == "appeal"


@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("申请公租房还要开无房证明吗", "exempt-no-housing"),
        ("考教师资格证还用开无犯罪记录证明吗", "exempt-no-crime"),
    ],
)
def test_certificate_questions_find_the_exemption(real_matcher, text, target):
    u = real_matcher.understand(text)
    assert (u.intent, u.target) == ("exemption", target)


@pytest.mark.parametrize(
    ("text", "kind"),
    [("您好", "greeting"), ("谢谢啦", "thanks"), ("拜拜", "goodbye"), ("你能做什么", "help")],
)
def test_small_talk(real_matcher, text, kind):
    u = real_matcher.understand(text)
    assert (u.intent, u.smalltalk) == ("smalltalk", kind)


def test_candidates_are_ranked_and_bounded(real_matcher):
    u = real_matcher.understand("公积金提取")
    scores = [c.score for c in u.candidates]
    assert 1 <= len(scores) <= 5 and scores == sorted(scores, reverse=True)
