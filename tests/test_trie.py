"""Leftmost-longest phrase replacement, the same on short and long texts as a plain scan."""

import random

from bot.core.text.trie import PhraseTrie


def naive_sub(text, phrases, repl):
    out, i = [], 0
    by_len = sorted(phrases, key=len, reverse=True)
    while i < len(text):
        for p in by_len:
            if text.startswith(p, i):
                out.append(repl(p))
                i += len(p)
                break
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def test_leftmost_longest():
    t = PhraseTrie(["身份证", "居民身份证", "份证明", "证明"])
    assert t.sub("居民身份证明", lambda p: f"[{p}]") == "[居民身份证]明"
    assert t.findall("开证明和身份证") == ["证明", "身份证"]
    assert not PhraseTrie([])


def test_matches_a_plain_scan_on_random_short_and_long_texts():
    rng = random.Random(7)
    alphabet = "社保卡身份证明公积金户口簿"
    phrases = {"".join(rng.choice(alphabet) for _ in range(rng.randint(1, 4))) for _ in range(40)}
    t = PhraseTrie(phrases)
    for n in (5, 50, 5000):
        for _ in range(20):
            text = "".join(rng.choice(alphabet + "的了") for _ in range(n))
            assert t.sub(text, lambda p: f"<{p}>") == naive_sub(text, phrases, lambda p: f"<{p}>")
