"""Long replies are split into Telegram-sized messages that each stay valid HTML."""

from __future__ import annotations

import re

from bot.adapters.telegram.splitting import split_html


def _balanced(part: str) -> bool:
    stack: list[str] = []
    for closing, name in re.findall(r"<(/?)([a-z-]+)[^>]*>", part):
        if closing:
            if not stack or stack.pop() != name:
                return False
        else:
            stack.append(name)
    return not stack


def _u16(s: str) -> int:
    return len(s.encode("utf-16-le")) // 2


def test_short_reply_is_untouched():
    assert split_html("<b>您好</b>") == ["<b>您好</b>"]


def test_cuts_fall_between_lines_and_nothing_is_lost():
    lines = [f"{i}. 申请材料：居民身份证原件，户口簿原件及复印件一份。" for i in range(400)]
    parts = split_html("\n".join(lines))
    assert len(parts) > 1
    assert all(_u16(p) <= 4096 for p in parts)
    assert "\n".join(parts).split("\n") == lines


def test_tags_open_across_a_cut_are_closed_and_reopened():
    html = "<blockquote>" + "\n".join(
        f'第{i}行 <a href="https://zwfw.example.gov.cn">链接</a>' for i in range(500)
    )
    html += "</blockquote>"
    parts = split_html(html)
    assert len(parts) > 1
    for p in parts:
        assert _balanced(p), p[:80]
        assert p.startswith("<blockquote>") and p.endswith("</blockquote>")


def test_one_enormous_line_is_cut_without_breaking_entities_or_emoji():
    html = "<b>" + "办事指南&amp;说明😀，" * 1500 + "</b>"
    parts = split_html(html)
    assert len(parts) > 1
    for p in parts:
        assert _u16(p) <= 4096
        assert _balanced(p)
        # no half entity (&am… / …p;) at either edge, no lone surrogate
        assert not re.search(r"&[a-z]*$", p.removesuffix("</b>"))
        p.encode("utf-8")
    text = "".join(p.removeprefix("<b>").removesuffix("</b>") for p in parts)
    assert text == "办事指南&amp;说明😀，" * 1500
