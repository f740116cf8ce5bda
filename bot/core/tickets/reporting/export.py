"""Exporting tickets for a spreadsheet: one row per ticket, in CSV (UTF-8 with a byte-order mark, so Excel
reads the Chinese right), XLSX (openpyxl) or JSON lines.

A spreadsheet runs a cell that starts with = + - @ (or a tab or carriage return) as a formula: a description
such as `=HYPERLINK(...)` typed by anybody would execute on the desk of whoever opens the export. Every text
cell that starts with one of them gets a leading apostrophe (the usual neutralisation, shown as typed); the
JSON lines are not for spreadsheets and keep the text as it is.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

from bot.core.text.mask import mask_phone, mask_pii
from bot.core.tickets.domain.models import Ticket

FORMATS = ("csv", "xlsx", "jsonl")
FIELDS = [
    "number",
    "state",
    "category",
    "department",
    "priority",
    "policy",
    "citizen_id",
    "anonymous",
    "description",
    "place",
    "phone",
    "handler",
    "created_at",
    "contact_due",
    "contact_met",
    "feedback_due",
    "feedback_met",
    "resolve_due",
    "resolve_met",
    "round",
    "resolution",
    "rating",
    "comment",
    "rated_at",
    "closed_at",
]
MASKED_TEXT = {"description", "place", "resolution", "comment"}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """A text a spreadsheet would run as a formula, made plain text; anything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def export_row(t: Ticket, mask: bool) -> dict[str, Any]:
    """The ticket's exported values (times as ISO text; phone and ID numbers masked when asked)."""
    row: dict[str, Any] = {}
    for f in FIELDS:
        v = getattr(t, f)
        if isinstance(v, dt.datetime):
            v = v.isoformat()
        if mask and f in MASKED_TEXT and v:
            v = mask_pii(v)
        if mask and f == "phone" and v:
            v = mask_phone(v)
        row[f] = v
    return row


class Export:
    """Rows written as they come (a page of tickets at a time); `close()` finishes the file."""

    def __init__(self, fmt: str, out: Any, mask: bool):
        """`out`: a text stream for csv and jsonl, a path or binary stream for xlsx."""
        if fmt not in FORMATS:
            raise ValueError(f"format must be one of {FORMATS}")
        self.fmt, self.out, self.mask = fmt, out, mask
        self.count = 0
        self._csv = self._sheet = self._book = None
        if fmt == "csv":
            out.write("\ufeff")  # the byte-order mark, written here so that stdout gets it too
            self._csv = csv.writer(out)
            self._csv.writerow(FIELDS)
        elif fmt == "xlsx":
            from openpyxl import Workbook

            # write-only: rows stream to the file, memory stays flat however many tickets there are
            self._book = Workbook(write_only=True)
            self._sheet = self._book.create_sheet("tickets")
            self._sheet.append(FIELDS)

    def add(self, tickets: Iterable[Ticket]) -> None:
        for t in tickets:
            if self.fmt == "jsonl":
                self.out.write(json.dumps(export_row(t, self.mask), ensure_ascii=False) + "\n")
            else:
                row = [neutralise(v) for v in export_row(t, self.mask).values()]
                if self._csv is not None:
                    self._csv.writerow(row)
                else:
                    self._sheet.append(row)  # type: ignore[union-attr]
            self.count += 1

    def close(self) -> None:
        if self._book is not None:
            self._book.save(self.out)
