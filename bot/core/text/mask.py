"""Mask personal numbers in text shown to groups, in digests and in logs.

ID cards: 18 digits (last may be X) keep the first 6 and last 4 digits (110101********1234); 15-digit old ones
keep 6 and 4. Mobile numbers keep the first 3 and last 4 (138****5678); landlines keep the area code and the
last 4 digits (0571-****4321).
"""

from __future__ import annotations

import re

_ID18 = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{8})(\d{3}[\dXx])(?![0-9A-Za-z])")
_ID15 = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{5})(\d{4})(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)(?:(\+?86)[\s-]?)?(1[3-9]\d)[\s-]?(\d{4})[\s-]?(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})([\s-]?)(\d{3,4})[\s-]?(\d{4})(?!\d)")


def mask_id_card(text: str) -> str:
    text = _ID18.sub(lambda m: f"{m.group(1)}{'*' * 8}{m.group(3)[-4:]}", text)
    return _ID15.sub(lambda m: f"{m.group(1)}{'*' * 5}{m.group(3)}", text)


def mask_phone_numbers(text: str) -> str:
    text = _MOBILE.sub(lambda m: f"{m.group(1) or ''}{m.group(2)}****{m.group(4)}", text)
    return _LANDLINE.sub(lambda m: f"{m.group(1)}-{'*' * len(m.group(3))}{m.group(4)}", text)


def mask_pii(text: str | None) -> str:
    """Mask every ID-card and phone number in free text."""
    if not text:
        return ""
    return mask_phone_numbers(mask_id_card(text))


def mask_phone(phone: str | None) -> str:
    """Mask one contact phone field."""
    if not phone:
        return ""
    masked = mask_phone_numbers(phone)
    if masked == phone and len(phone) > 4:
        return "*" * (len(phone) - 4) + phone[-4:]
    return masked
