"""Mask personal numbers in text shown to groups, in digests, exports and logs; redact secrets in log text.

One scanner (`mask_pii`) finds mobile, ID-card and landline numbers however they are written — ASCII or
full-width digits, with spaces (even between every digit), dashes, dots or brackets, in groups, after a
`+86` / `0086` / `86` prefix or a word such as `ID`, `sfz`, `tel` — and writes each in one canonical masked
form that keeps the readable parts:

    mobile      138****5678          (+86 138****5678 when a country prefix was written)
    ID card     110101********1234   (18 digits, the last may be X; 15-digit old ones: 110101******123)
    landline    0571-****1234        (area code, then the last 4 digits of the local number)

What is not a personal number is left alone: ticket numbers (SQ20261123-0007), dates (2026-11-23, 20261123),
times, amounts, years, catalogue codes, Telegram ids and short numbers. The rules that keep them apart:

- digits glued to letters are part of a code (SQ20261123, 91330100MA2C…), unless the letters are a word that
  introduces a number (`ID`, `sfz`, `tel`, `phone`, …);
- a number is a whole run of digit groups, never a slice of a longer group (a 19-digit code holds no ID);
- an ID card needs a plausible region and birth date; a landline a real area code (010, 02X, 0[3-9]XX) written
  as its own group or glued to the local number; a mobile 1[3-9] and 11 digits;
- dots join groups only in the usual shapes (138.1234.5678, 0571.8888.1234), so IP addresses and version
  numbers stay as they are.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import NamedTuple
from urllib.parse import quote

_D = "0-9\uff10-\uff19"  # ASCII and full-width digits
# between two groups of one number: spaces (not line breaks), dashes of every width, dots, brackets
_SEP_CHARS = " \t\u00a0\u3000\\-\u2010-\u2015\u2212\ufe63\uff0d.\uff0e()\uff08\uff09"
_X = "Xx\uff38\uff58"  # the check character of an ID card, ASCII or full-width
_RUN = re.compile(rf"[+\uff0b]?[{_D}]+[{_X}]?(?:[{_SEP_CHARS}]{{1,3}}[{_D}]+[{_X}]?)*")
_GROUP = re.compile(rf"[{_D}]+[{_X}]?")
_DOTS = frozenset(".\uff0e")
_OPEN = "(\uff08"
_CLOSE = ")\uff09"
# words that may be glued to a number they introduce: "ID110101…", "sfz110101…", "tel13812345678"
_PREFIX_WORDS = frozenset(
    {
        "id",
        "idno",
        "idcard",
        "sfz",
        "sfzh",
        "sfzhm",
        "no",
        "tel",
        "phone",
        "mobile",
        "mob",
        "cell",
        "sj",
        "dh",
        "wx",
        "vx",
        "weixin",
        "wechat",
    }
)
_FULLWIDTH = str.maketrans("０１２３４５６７８９ｘＸ", "0123456789xX")


class _Group(NamedTuple):
    start: int  # offsets in the text
    end: int  # after the digits (and after the X, when the group ends with one)
    digits: str  # ASCII digits, without the X
    x: str  # "X"/"x" when the group ends with an ID card's check character, else ""
    dot_before: bool  # a dot separates it from the group before


def _area_code_length(digits: str) -> int:
    # 010 and 020–029 are three digits long; every other mainland area code is four
    return 3 if digits[1] in "12" else 4


def _valid_date(year: int, month: int, day: int) -> bool:
    try:
        dt.date(year, month, day)
    except ValueError:
        return False
    return True


def _id18(d: str) -> bool:
    """17 digits and a check character (digit or X) with a plausible region and birth date."""
    year = int(d[6:10])
    return d[0] in "12345678" and 1900 <= year <= 2099 and _valid_date(year, int(d[10:12]), int(d[12:14]))


def _id15(d: str) -> bool:
    return d[0] in "12345678" and _valid_date(1900 + int(d[6:8]), int(d[8:10]), int(d[10:12]))


def _mobile(d: str) -> bool:
    return len(d) == 11 and d[0] == "1" and d[1] in "3456789"


def _landline_split(d: str) -> int:
    """The area code's length when `d` is an area code and a local number, else 0."""
    if len(d) < 10 or d[0] != "0" or d[1] == "0":
        return 0
    n = _area_code_length(d)
    local = d[n:]
    return n if 7 <= len(local) <= 8 and local[0] != "0" else 0


def _match(groups: list[_Group], plus: bool) -> tuple[int, int, str] | None:
    """The longest personal number made of groups[0..k]: (k, where it ends, masked text), or None."""
    best: tuple[int, int, str] | None = None
    digits = ""
    sizes: list[int] = []
    dotted = False
    for k, g in enumerate(groups):
        dotted = dotted or (k > 0 and g.dot_before)
        digits += g.digits
        sizes.append(len(g.digits))
        if len(digits) > 18:
            break
        if g.x:
            # an X is an ID card's last character: either it ends one here, or the number ends before it
            if len(digits) == 17 and _id18(digits + "0") and not plus and (not dotted or sizes == [6, 8, 4]):
                return k, g.end, f"{digits[:6]}{'*' * 8}{digits[14:]}{g.x}"
            masked = _classify(digits, sizes, dotted, plus) if len(digits) >= 10 else None
            return (k, g.end - 1, masked) if masked is not None else best
        if len(digits) >= 10:
            masked = _classify(digits, sizes, dotted, plus)
            if masked is not None:
                best = (k, g.end, masked)
    return best


def _classify(d: str, sizes: list[int], dotted: bool, plus: bool) -> str | None:
    """The masked form of digits `d` written in groups of `sizes`, or None if they are no personal number."""
    if len(d) == 18 and not plus and _id18(d) and (not dotted or sizes == [6, 8, 4]):
        return f"{d[:6]}{'*' * 8}{d[14:]}"
    if len(d) == 15 and not plus and not dotted and _id15(d):
        return f"{d[:6]}{'*' * 6}{d[12:]}"
    for prefix in ("0086", "86", ""):
        if not d.startswith(prefix) or not _mobile(d[len(prefix) :]) or (plus and prefix == "0086"):
            continue
        body = sizes
        if prefix and sizes[0] == len(prefix):
            body = sizes[1:]
        elif prefix and len(sizes) > 1:
            continue  # a prefix glued to the digits only in one unbroken group: 8613812345678
        if dotted and body != [3, 4, 4]:
            continue
        number = d[len(prefix) :]
        shown = ("+" if plus else "") + (f"{prefix} " if prefix else "")
        return f"{shown}{number[:3]}****{number[7:]}"
    n = 0 if plus else _landline_split(d)
    if n and (len(sizes) == 1 or sizes[0] == n) and not (dotted and min(sizes[1:], default=3) < 3):
        local = d[n:]
        return f"{d[:n]}-{'*' * (len(local) - 4)}{local[-4:]}"
    return None


def _glued_to_code(text: str, start: int) -> bool:
    """True when letters are glued to the digits at `start` and are not a word that introduces a number."""
    i = start
    while i > 0 and text[i - 1].isascii() and text[i - 1].isalpha():
        i -= 1
    return i < start and text[i:start].lower() not in _PREFIX_WORDS


def mask_pii(text: str | None) -> str:
    """Mask every mobile, ID-card and landline number in free text, however it is written."""
    if not text:
        return ""
    out: list[str] = []
    pos = 0
    for run in _RUN.finditer(text):
        if run.end() - run.start() < 10:
            continue  # the shortest personal number, a landline, has 10 digits
        plus = run.group()[0] in "+\uff0b"
        groups: list[_Group] = []
        prev = run.start()
        for m in _GROUP.finditer(text, run.start(), run.end()):
            raw = m.group().translate(_FULLWIDTH)
            x = raw[-1] if raw[-1] in "Xx" else ""
            dot = not _DOTS.isdisjoint(text[prev : m.start()])
            groups.append(_Group(m.start(), m.end(), raw[:-1] if x else raw, x, dot))
            prev = m.end()
        i = 0
        while i < len(groups):
            lead = run.start() if (i == 0 and plus) else groups[i].start
            found = None if _glued_to_code(text, lead) else _match(groups[i:], plus and i == 0)
            if found is None:
                i += 1
                continue
            k, end, masked = found
            start = lead
            # "(0571)8888-1234", "(+86)138…": the opening bracket goes with the closing one inside
            if start > 0 and text[start - 1] in _OPEN and any(c in text[start:end] for c in _CLOSE):
                start -= 1
            out.append(text[pos:start])
            out.append(masked)
            pos = end
            i += k + 1
    out.append(text[pos:])
    return "".join(out)


def mask_phone(phone: str | None) -> str:
    """Mask one contact phone field (whatever it holds, only its last 4 digits stay readable)."""
    if not phone:
        return ""
    masked = mask_pii(phone)
    if masked == phone and len(phone) > 4:
        return "*" * (len(phone) - 4) + phone[-4:]
    return masked


# older names, kept for imports elsewhere: both mask every kind of personal number


# --------------------------------------------------------------------------------------------- secrets

# a Telegram bot token: the bot's numeric id, a colon and 35 characters; the id stays readable
_TG_TOKEN = re.compile(r"(?<![0-9])(\d{5,12}):[A-Za-z0-9_-]{35}(?![A-Za-z0-9_-])")
# a password in a URL: scheme://user:password@host (the password may itself hold an unencoded @)
_URL_PASSWORD = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.-]*://[^\s/?#:@]*):[^\s/?#]*@")
# password=… in a connection string
_KV_PASSWORD = re.compile(r"(?i)\b(password|passwd|pwd)=[^\s&;]+")
_SECRET_EDGE = "A-Za-z0-9_-"


def secret_replacement(secret: str) -> str:
    """What a configured secret becomes in logs: a bot token keeps its bot id (123456789:***)."""
    m = re.fullmatch(r"(\d{3,}):\S+", secret)
    return f"{m.group(1)}:***" if m else "***"


class SecretRedactor:
    """Replaces configured secrets (and their URL-encoded forms), anything shaped like a Telegram bot token
    and passwords in URLs and connection strings."""

    def __init__(self, secrets: Iterable[str] = ()):
        table: dict[str, str] = {}
        for s in secrets:
            if s and s.strip():
                table[s] = secret_replacement(s)
                table.setdefault(quote(s, safe=""), table[s])
        self._table: Mapping[str, str] = table
        self._exact = (
            re.compile(
                f"(?<![{_SECRET_EDGE}])(?:"
                + "|".join(re.escape(s) for s in sorted(table, key=len, reverse=True))
                + f")(?![{_SECRET_EDGE}])"
            )
            if table
            else None
        )

    def __call__(self, text: str) -> str:
        if not text:
            return text
        text = _URL_PASSWORD.sub(r"\1:***@", text)
        text = _KV_PASSWORD.sub(r"\1=***", text)
        if self._exact is not None:
            text = self._exact.sub(lambda m: self._table[m.group()], text)
        return _TG_TOKEN.sub(r"\1:***", text)


def redact_secrets(text: str, secrets: Iterable[str] = ()) -> str:
    """`SecretRedactor(secrets)(text)` for a one-off text."""
    return SecretRedactor(secrets)(text)
