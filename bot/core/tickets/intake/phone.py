"""Contact phone numbers: validate and normalise mainland mobile and landline numbers.

Masking for digests, groups and logs lives in bot/core/text/mask.py.

Accepted (after full-width → half-width):
- mobile: ``1[3-9]`` + 9 digits, with optional ``+86`` / ``0086`` / ``86`` prefix, spaces, dashes, dots;
  normalised to 11 digits, e.g. ``13812345678``.
- landline: area code ``0`` + 2–3 digits (010 and 02X are three digits long, all others four) and a 7–8 digit
  local number, optionally in parentheses, with an optional extension (``转123``, ``-123``, ``ext 123``,
  ``#123``); normalised to ``0571-87654321`` or ``0571-87654321转123``.

Anything else returns None: the caller asks again.
"""

from __future__ import annotations

import re
import unicodedata

_MOBILE = re.compile(r"1[3-9]\d{9}")
_SEPARATORS = re.compile(r"[\s\-–—.·()（）]+")
_EXTENSION = re.compile(r"^(?P<main>.*?)(?:\s*(?:转|分机|ext\.?|x|#)\s*|-)(?P<ext>\d{1,6})$", re.IGNORECASE)
_LANDLINE = re.compile(r"0\d{9,11}")

MAX_INPUT = 40  # longer text is never a phone number


def _area_code_length(digits: str) -> int:
    # 010 (Beijing) and 020-029 are three digits; every other mainland area code is four.
    return 3 if digits[1] in "12" else 4


def _normalise_landline(text: str) -> str | None:
    digits = _SEPARATORS.sub("", text)
    if not _LANDLINE.fullmatch(digits):
        return None
    area_len = _area_code_length(digits)
    area, local = digits[:area_len], digits[area_len:]
    if not 7 <= len(local) <= 8 or local[0] == "0":
        return None
    return f"{area}-{local}"


def normalize_phone(raw: str) -> str | None:
    """Return the normalised number, or None when `raw` is not a mainland mobile or landline number."""
    if not raw:
        return None
    text = unicodedata.normalize("NFKC", raw).strip()
    if not text or len(text) > MAX_INPUT:
        return None
    compact = _SEPARATORS.sub("", text)
    # mobile, with optional country code
    mobile = compact
    for prefix in ("+86", "0086", "86"):
        if mobile.startswith(prefix) and len(mobile) == len(prefix) + 11:
            mobile = mobile[len(prefix) :]
            break
    if _MOBILE.fullmatch(mobile):
        return mobile
    # landline without extension; "+86 571 ..." drops the country code and takes the trunk prefix 0
    if compact.startswith("+86") and not compact.startswith("+860"):
        text = "0" + text[3:].lstrip(" -")
    landline = _normalise_landline(text)
    if landline:
        return landline
    # landline with extension: try splitting an extension off the end
    m = _EXTENSION.match(text)
    if m:
        main = _normalise_landline(m.group("main"))
        if main:
            return f"{main}转{m.group('ext')}"
    return None


def is_phone(raw: str) -> bool:
    return normalize_phone(raw) is not None


_CANDIDATE = re.compile(r"\+?\d[\d\s\-–—()（）]{5,}\d(?:\s*(?:转|分机|ext\.?|#)\s*\d{1,6})?", re.IGNORECASE)


def find_phone(text: str) -> str | None:
    """The one phone number in a short sentence ("我的电话是 138 1234 5678"), normalised; None when there is none
    or more than one candidate."""
    if not text:
        return None
    text = unicodedata.normalize("NFKC", text)
    if len(text) > 2 * MAX_INPUT:
        return None
    whole = normalize_phone(text)
    if whole:
        return whole
    found = {n for n in (normalize_phone(m.group(0)) for m in _CANDIDATE.finditer(text)) if n}
    candidates = _CANDIDATE.findall(text)
    return found.pop() if len(found) == 1 and len(candidates) == 1 else None
