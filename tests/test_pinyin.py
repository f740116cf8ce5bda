"""Pinyin readings, with pypinyin loaded without its phrase dictionary."""

import os

from bot.core.text.pinyin import full_pinyin, fuzzy_keys, readings


def test_pypinyin_is_loaded_without_phrases_and_the_environment_is_left_alone():
    import pypinyin.constants

    assert "PYPINYIN_NO_PHRASES" not in os.environ
    assert pypinyin.constants.PHRASES_DICT == {}
    # single characters read the same: heteronyms in the order pypinyin gives them
    assert readings("行")[:2] == ("xing", "hang")
    assert full_pinyin("社保") == "shebao" and readings("绿") == ("lv", "lu")
    assert fuzzy_keys("社保") == ["sebao"] and fuzzy_keys("执照")[0] == fuzzy_keys("执造")[0] == "zizao"
