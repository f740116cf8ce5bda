"""What people type instead of pressing a button during the intake, and how typed text is cleaned.

Typed words are compared after width, case, punctuation and spaces are removed (`key`), so "取消。", "取 消"
and "ＯＫ" work like the buttons.
"""

from __future__ import annotations

import re
import unicodedata

CANCEL = {
    "取消", "算了", "不办了", "不用了", "退出", "不要了", "不反映了", "不提交了", "不登记了", "不写了",
    "cancel", "/cancel",
}  # fmt: skip
YES = {
    "是这一类", "是这个", "是这类", "就是这个", "就是这类", "正确", "对", "是", "是的", "对的", "确认", "确定",
    "没错", "没问题", "好", "好的", "可以", "行", "嗯", "ok", "yes",
}  # fmt: skip
SKIP = {"跳过", "没有", "无", "不知道", "不清楚", "不用", "不填", "略", "skip", "不留", "不留电话", "不方便"}
SKIP_PREFIXES = ("没有", "不知道", "不清楚", "不用", "不方便", "跳过", "不想", "不留", "不填")
SUBMIT = {
    "提交", "确认提交", "提交吧", "提交诉求", "可以提交", "确认无误", "没问题提交", "确认", "确定", "好", "好的",
    "可以", "是", "对", "没问题",
}  # fmt: skip
CHANGE = {
    "换一个", "换一个类别", "换个类别", "换类别", "换", "不对", "不是", "错了", "分错了", "不是这个", "不是这类",
    "不是这一类", "选别的", "重新选", "其他类别",
}  # fmt: skip
DESCRIBE_AGAIN = {"修改描述", "改描述", "重新描述", "重写", "重新写", "改一下描述"}
EDIT = {"修改", "改", "改一下", "要改", "修改一下"}
BACK = {"返回", "不改了", "返回摘要", "back"}
ANON_YES = {"匿名", "匿名反映", "要匿名", "是", "是的", "要", "对", "好"}
ANON_NO = {"实名", "实名反映", "不匿名", "不用匿名", "不要匿名", "否", "不", "不是", "不用", "不要"}
FIELD_WORDS = {
    "desc": {"描述", "问题描述", "内容", "问题"},
    "cat": {"类别", "分类"},
    "type": {"类型", "诉求类型"},
    "place": {"地点", "地址", "位置"},
    "phone": {"电话", "手机", "联系电话", "号码", "手机号"},
    "anon": {"匿名", "实名", "匿名设置"},
}

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
_WORD_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)


def key(text: str) -> str:
    """Typed text reduced for matching against command words: width, case, punctuation and spaces removed."""
    return _WORD_NOISE.sub("", unicodedata.normalize("NFKC", text)).lower()


def is_cancel(text: str) -> bool:
    """'取消', '算了', '不用了'… typed instead of pressing 取消 (intake, and the comment after a rating)."""
    return key(text) in CANCEL


def is_skip(k: str) -> bool:
    """'跳过', '没有', '不知道具体地址', '不想留' — a short typed refusal."""
    return k in SKIP or (len(k) <= 8 and k.startswith(SKIP_PREFIXES))


def anonymous_choice(k: str) -> bool | None:
    if "实名" in k or "不匿名" in k or "不用匿名" in k or "不要匿名" in k or k in ANON_NO:
        return False
    if "匿名" in k or k in ANON_YES:
        return True
    return None


def field_from(k: str) -> str | None:
    for field, words in FIELD_WORDS.items():
        if k in words or k in {f"修改{w}" for w in words} or k in {f"改{w}" for w in words}:
            return field
    return None


def clean_text(text: str) -> str:
    """Remove control and invisible formatting characters and lone surrogates, tidy whitespace; keep lines."""
    text = (text or "").encode("utf-8", "replace").decode("utf-8")
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " "))
    text = re.sub(r"[ \u3000]{2,}", " ", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def meaningful(text: str) -> int:
    """How many letters and digits (any script) the text has; emoji and punctuation do not count."""
    return sum(1 for c in text if unicodedata.category(c)[0] in "LN")


def chars_in_order(needle: str, hay: str) -> bool:
    it = iter(hay)
    return all(ch in it for ch in needle)
