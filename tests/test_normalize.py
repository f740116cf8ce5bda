from bot.core.text.normalize import MAX_ANALYSED_CHARS, compact, compact_many, normalize, to_simplified


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


def test_compact_many_is_compact_of_each():
    # the index build compacts every text of the base in one pass; it must give what compact() gives each
    texts = [
        "居民身份证（补领）",
        "ＡＢＣ１２３ 營業執照",
        "社保卡\u200b挂失",
        "ﾊﾟｽﾎﾟｰﾄ",
        "",
        "   ",
        "户口\t迁移",
        "😀 emoji 办证",
        "①号窗口",
        "Ａ\u0301ｂｃ＜\u0338",  # full-width forms that compose with the mark after them
    ]
    assert compact_many(texts) == [compact(t) for t in texts]
    # a text with a newline of its own cannot be joined with the others: compacted one by one
    with_newline = [*texts, "第一行\n第二行"]
    assert compact_many(with_newline) == [compact(t) for t in with_newline]
