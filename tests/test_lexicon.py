"""The everyday-word lexicon: jieba's dictionary kept compactly, the same words and tags as read line by line."""

import sys

import pytest

from bot.core.text import lexicon
from bot.core.text.lexicon import EverydayWords, everyday_words, read_dictionary, read_plain


def test_compact_lexicon_is_the_dictionary_read_line_by_line():
    words = everyday_words()
    plain = read_plain(lexicon.jieba_dictionary())
    assert len(words) == len(plain) > 300_000
    assert dict(words.pairs()) == plain
    assert words.get("收费") == plain["收费"] and "下个月" in words
    assert "护照" in words and words["护照"] == "n"


def test_look_ups_of_what_is_not_there():
    words = everyday_words()
    for missing in ("", "收", "后寄", "收费收费收费", "ab", "\U00020000\U00020001", "𠀀收费", "収费"):
        assert missing not in words and words.get(missing) is None
        with pytest.raises(KeyError):
            words[missing]
    assert 3 not in words and None not in words


def test_regular_file_keeps_the_last_tag_of_a_repeated_word(tmp_path):
    path = tmp_path / "dict.txt"
    path.write_text(
        "收费 10 v\n护照 3 n\n收费 5 vn\nA股 3 n\n一 9 m\n中华人民共和国 5 ns\n护照 1 nz\n", encoding="utf-8"
    )
    got = read_dictionary(path)
    assert lexicon._read_regular(path) is not None  # the numpy reading, not the fallback
    assert dict(got.items()) == read_plain(path) == {"收费": "vn", "护照": "nz", "A股": "n"}
    assert list(got) == sorted(got)


def test_characters_outside_the_bmp(tmp_path):
    path = tmp_path / "dict.txt"
    path.write_text("𠀀收 3 n\n收费 10 v\n𠀀𠀁𠀂𠀃 2 nz\n㐀𠀀 1 x\n", encoding="utf-8")
    got = read_dictionary(path)
    assert lexicon._read_regular(path) is not None  # the numpy reading, in UTF-32
    assert dict(got.pairs()) == read_plain(path) and len(got) == 4
    assert got.get("𠀀𠀁𠀂𠀃") == "nz" and "𠀀收" in got and "𠀀" not in got and "𠀁收" not in got


@pytest.mark.parametrize(
    "text",
    [
        "收费 10 v\n护照\t3 n\n",  # a tab
        "收费 10 v\r\n护照 3 n\r\n",  # Windows line ends
        "收费 10 v\n护照 3 n",  # no final newline
        "收费 10 v\n\n护照  3 n\n",  # an empty line, two spaces
        "收费 10 v\n护照 3\n下个 3 m extra\n",  # too few and too many fields
        "收费\u300010 v\n护照 3 n\n",  # an ideographic space splits too
        "收费 10 v\n护照 3 n\u00a0\n",  # so does a no-break space
        "\ufeff收费 10 v\n护照 3 n\n",  # a byte-order mark is part of the first word
    ],
)
def test_irregular_files_read_as_line_by_line(tmp_path, text):
    path = tmp_path / "dict.txt"
    path.write_bytes(text.encode("utf-8"))
    got = read_dictionary(path)
    plain = read_plain(path)
    assert dict(got.pairs()) == dict(got.items()) == plain
    for word in ("收费", "护照", "下个", "\ufeff收费"):
        assert (word in got) == (word in plain) and got.get(word) == plain.get(word)


def test_empty_and_small_lexicons():
    empty = EverydayWords.from_dict({})
    assert len(empty) == 0 and "收费" not in empty and list(empty) == []
    one = EverydayWords.from_dict({"收费": "v", "中华人民共和国": "ns", "一": "m"})
    assert dict(one.items()) == {"收费": "v"}  # only words of two to four characters


def test_no_whitespace_above_the_table():
    """_whitespace() stops at U+3000: no code point above it is whitespace to str.split()."""
    assert max(c for c in range(sys.maxunicode + 1) if chr(c).isspace()) == 0x3000
    table = lexicon._whitespace()
    assert {c for c in range(len(table)) if table[c]} == {c for c in range(0x3001) if chr(c).isspace()}


def test_a_dictionary_with_more_tags_than_a_byte_holds():
    words = {f"收{chr(0x4E00 + i)}": f"t{i}" for i in range(300)}
    got = EverydayWords.from_dict(words)
    assert dict(got.pairs()) == dict(got.items()) == words and got["收丁"] == words["收丁"]
