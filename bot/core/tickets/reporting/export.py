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
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bot.core.text.mask import mask_phone, mask_pii
from bot.core.tickets.domain.models import Attachment, Ticket

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
    "latitude",
    "longitude",
    "unit",
    # the photos and files of the ticket, listed without their content (no file ids, no local paths)
    "attachments",
]
MASKED_TEXT = {"description", "place", "resolution", "comment"}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """A text a spreadsheet would run as a formula, made plain text; anything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def attachment_rows(files: Sequence[Attachment], mask: bool) -> list[dict[str, Any]]:
    """What is attached, without the content: kind, who sent it, when, size, type and caption."""
    return [
        {
            "kind": a.media.kind,
            "role": a.role,
            "at": a.media.at.isoformat() if a.media.at else None,
            "size": a.media.size,
            "mime": a.media.mime,
            "caption": mask_pii(a.media.caption) if mask and a.media.caption else a.media.caption,
        }
        for a in files
    ]


def export_row(t: Ticket, mask: bool, files: Sequence[Attachment] = ()) -> dict[str, Any]:
    """The ticket's exported values (times as ISO text; phone and ID numbers masked when asked)."""
    row: dict[str, Any] = {}
    for f in FIELDS:
        if f == "attachments":
            row[f] = attachment_rows(files, mask)
            continue
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

    def add(self, tickets: Iterable[Ticket], files: Mapping[int, Sequence[Attachment]] | None = None) -> None:
        """`files`: each ticket's attachments by ticket id (listed, never their content)."""
        for t in tickets:
            values = export_row(t, self.mask, (files or {}).get(t.id, ()))
            if self.fmt == "jsonl":
                self.out.write(json.dumps(values, ensure_ascii=False) + "\n")
            else:
                values["attachments"] = json.dumps(values["attachments"], ensure_ascii=False)
                row = [neutralise(v) for v in values.values()]
                if self._csv is not None:
                    self._csv.writerow(row)
                else:
                    self._sheet.append(row)  # type: ignore[union-attr]
            self.count += 1

    def close(self) -> None:
        if self._book is not None:
            self._book.save(self.out)
