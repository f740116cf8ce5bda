from bot.core.text.normalize import MAX_ANALYSED_CHARS, compact, normalize, to_simplified


def test_traditional_width_case_and_punctuation_are_folded():
    assert compact("戶口簿遺失補辦！") == "户口簿遗失补办"
    assert compact("ＧＪＪ提取") == "gjj提取"
    assert normalize("身份证，丢了😭怎么办？？") == "身份证 丢了 怎么办"


def test_control_characters_and_emoji_vanish():
    assert compact("社保\x00卡\u200b🎉") == "社保卡"


def test_analysis_is_bounded_for_huge_messages():
    assert len(normalize("办" * 10_000)) <= MAX_ANALYSED_CHARS


def test_simplified_text_is_unchanged():
    assert to_simplified("居民身份证补领") == "居民身份证补领"
