"""Contact phone validation for intake: what people type is accepted in its usual forms, and nothing else."""

from __future__ import annotations

import pytest

from bot.core.tickets.intake.phone import find_phone, is_phone, normalize_phone


@pytest.mark.parametrize(
    "typed,expected",
    [
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("+8613812345678", "13812345678"),
        ("008613812345678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),  # full-width digits from a Chinese keyboard
        (" 19912345678 ", "19912345678"),
        ("0571-87654321", "0571-87654321"),
        ("057187654321", "0571-87654321"),
        ("(0571)87654321", "0571-87654321"),
        ("（0571）8765 4321", "0571-87654321"),
        ("010-12345678", "010-12345678"),
        ("021-6543210", "021-6543210"),
        ("+86 571 87654321", "0571-87654321"),
        ("0571-87654321转123", "0571-87654321转123"),
        ("0571-87654321-8001", "0571-87654321转8001"),
        ("0571 8765 4321 ext 12", "0571-87654321转12"),
    ],
)
def test_valid_numbers_are_normalised(typed, expected):
    assert normalize_phone(typed) == expected
    assert is_phone(typed)


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "abc",
        "12345",
        "110",
        "12812345678",  # 12x is not a mobile prefix
        "1381234567",  # 10 digits
        "138123456789",  # 12 digits
        "13812345678x",
        "0571-0123456",  # local numbers do not start with 0
        "0571-123456",  # too short
        "87654321",  # landline without area code
        "😀😀😀",
        "<b>13812345678</b>",
        "1" * 10_000,
        "我的电话是13812345678",
    ],
)
def test_anything_else_is_rejected(typed):
    assert normalize_phone(typed) is None
    assert not is_phone(typed)


@pytest.mark.parametrize(
    "typed,expected",
    [
        ("我的电话是13812345678", "13812345678"),
        ("打138 1234 5678就行", "13812345678"),
        ("电话：0571-87654321转123，白天打", "0571-87654321转123"),
        ("房号1201，电话13812345678", "13812345678"),
        ("13812345678或13912345678", None),  # two numbers: ask which one
        ("我家在3栋2单元", None),
        ("12345", None),
    ],
)
def test_one_number_in_a_short_sentence_is_found(typed, expected):
    assert find_phone(typed) == expected
