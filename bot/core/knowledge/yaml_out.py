"""Block-style YAML for the files `python -m bot kb import` writes, emitted directly.

PyYAML's representer is Python even with the C emitter, and it was a quarter of the time of importing a 5,000-row
sheet. The imported files hold only mappings, lists, strings, numbers, booleans, None and dates, so they are
written here in the same block style yaml.dump gives them. A string is written plain only when it is made of
characters that can never make YAML read it as something else (CJK, full-width and general punctuation); any other
string is a JSON string, which is a valid YAML double-quoted scalar. Anything else returns None, and the caller
falls back to yaml.dump. tests/test_catalog_import.py checks that what is written loads back equal.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from typing import Any

import yaml

# a mapping key written plain
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# characters a plain scalar may consist of: none is a YAML indicator, a line break, a space or a control
_PLAIN_TEXT = re.compile(r"[\u3001-\u303f\u3040-\u9fff\uf900-\ufaff\uff01-\uffef\u2010-\u2027\u2030-\u205e]+")
# otherwise plain when it does not start with an indicator or a space, holds no control or line-break character,
# no ": " or " #", does not end in a space or a colon, and YAML's own resolver reads it as a string (not as a
# number, a boolean, null or a date): "0826-2411423", "个人/法人", "工作日 9:00-12:00"
_PLAIN_MIXED = re.compile(
    r"[^\s\-?:,\[\]{}#&*!|>'\"%@`][^\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff\ufffe\uffff]*"
)
_RESOLVER = yaml.resolver.Resolver()
# a value is not representable here
_UNKNOWN = object()


def _scalar(value: Any) -> str | object:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    # exact types only (no subclasses such as enums): what is written must load back as the very same data
    kind = type(value)
    if kind is int:
        return str(value)
    if kind is float:
        return json.dumps(value) if math.isfinite(value) else _UNKNOWN
    if kind is str:
        return value if _plain(value) else json.dumps(value, ensure_ascii=False)
    if kind is dt.date:
        return value.isoformat()
    return _UNKNOWN  # a datetime, a tuple…: not written by the import


def _plain(text: str) -> bool:
    if _PLAIN_TEXT.fullmatch(text):
        return True
    return (
        _PLAIN_MIXED.fullmatch(text) is not None
        and ": " not in text
        and " #" not in text
        and text[-1] not in " :"
        and _RESOLVER.resolve(yaml.ScalarNode, text, (True, False)) == "tag:yaml.org,2002:str"
    )


def _key(key: Any) -> str | object:
    if type(key) is not str:
        return _UNKNOWN
    return key if _PLAIN_KEY.fullmatch(key) else _scalar(key)


def _block(value: Any, pad: str, out: list[str]) -> bool:
    """Append the lines of a non-empty mapping or list at indentation `pad`; False when something cannot be
    written here."""
    if type(value) is dict:
        for k, v in value.items():
            key = _key(k)
            if key is _UNKNOWN or not _entry(f"{pad}{key}:", v, pad, out, in_list=False):
                return False
        return True
    for v in value:
        if type(v) is dict and v:
            # the first key on the "- " line, the others under it
            first = len(out)
            if not _block(v, pad + "  ", out):
                return False
            out[first] = f"{pad}- {out[first][len(pad) + 2 :]}"
        elif not _entry(f"{pad}-", v, pad, out, in_list=True):
            return False
    return True


def _entry(head: str, v: Any, pad: str, out: list[str], *, in_list: bool) -> bool:
    if type(v) in (dict, list):
        if not v:
            out.append(f"{head} {'{}' if isinstance(v, dict) else '[]'}")
            return True
        out.append(head)
        # yaml.dump writes a list under a mapping key at the key's own indentation
        inner = pad + "  " if in_list or isinstance(v, dict) else pad
        return _block(v, inner, out)
    s = _scalar(v)
    if s is _UNKNOWN:
        return False
    out.append(f"{head} {s}")
    return True


def dump_block(body: dict[str, Any]) -> str | None:
    """The YAML text of `body` (a mapping), or None when it holds a value this module does not write."""
    out: list[str] = []
    if type(body) is not dict:
        return None
    if not body:
        return "{}\n"
    if not _block(body, "", out):
        return None
    return "\n".join(out) + "\n"
