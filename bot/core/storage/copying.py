"""Copying a whole database into another, engine to engine: `python -m bot db copy --from … --to …`, for
moving a live deployment from SQLite to PostgreSQL (or back).

Every table the migrations made is copied — tickets with their events, recorded reminders and day counters,
staff and their log, the outbox, conversation state, the question log, meta facts, seen update ids and
leases — as it stood at one moment (the source is read in one snapshot, so a bot still running on it may go on
writing), with the same ids, written by primary key: a row already there and equal is left alone, one that
differs is updated, and one the source no longer has is deleted from the tables the program itself deletes
from (conversation state, leases, seen update ids, staff, enterprise profiles their owner deleted). Copying
again is therefore safe and brings the target up to date; the last copy, made after the bot was stopped, is exact. A target that already has tickets
the source has not (a bot is using it) is refused before anything is written. Afterwards both sides are read
again and compared table by table: the number of rows and a checksum over every value of every row. (Tables
keyed by one id are read back range by range while they are copied — a range already there and equal, as on a
re-run, is not written at all — and their rows counted again at the end.)

The checksum is a sum of 64-bit hashes of the rows, so it does not depend on the order rows are read in. A NUL
character, which PostgreSQL text cannot hold, is counted as U+FFFD on both sides (the store writes it so).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from .protocols import Store, TableShape

MASK = (1 << 64) - 1
# tables whose rows the program deletes (drafts finished, leases given up, update ids forgotten, staff removed,
# enterprise profiles deleted by their owner):
# a row the source no longer has is deleted from the target too. Any other row only the target has means the
# target is in use, and the copy stops rather than delete it.
DELETABLE = frozenset({"drafts", "enterprise_profiles", "leases", "seen_updates", "staff"})
# what is being done ("copy", "check"), the table, rows done so far, rows in the table
Progress = Callable[[str, str, int, int], None]


class CopyError(Exception):
    """The two databases cannot be copied into each other; the message says why, in Chinese."""


@dataclass(frozen=True)
class TableReport:
    name: str
    rows: int  # in the source's snapshot
    target_rows: int
    checksum: str
    target_checksum: str
    removed: int  # rows the target had that the source no longer has

    @property
    def same(self) -> bool:
        return self.rows == self.target_rows and self.checksum == self.target_checksum


class Checksum:
    def __init__(self) -> None:
        self.rows = 0
        self._sum = 0

    def add(self, rows: list[tuple[Any, ...]]) -> None:
        total = self._sum
        blake2b, from_bytes = hashlib.blake2b, int.from_bytes
        for row in rows:
            text = repr(row)
            if "\\x00" in text or "True" in text or "False" in text:  # rare: the canonical form
                text = repr(tuple(map(canonical, row)))
            total += from_bytes(blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "big")
        self._sum = total & MASK
        self.rows += len(rows)

    def merge(self, other: Checksum) -> None:
        self._sum = (self._sum + other._sum) & MASK
        self.rows += other.rows

    def hex(self) -> str:
        return f"{self._sum:016x}"


def canonical(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str) and "\x00" in value:
        return value.replace("\x00", "\ufffd")
    return value


def copy_order(shapes: list[TableShape]) -> list[TableShape]:
    """Tables a foreign key points to before the tables that point to them."""
    by_name = {s.name: s for s in shapes}
    done: list[TableShape] = []
    seen: set[str] = set()

    def visit(s: TableShape) -> None:
        if s.name in seen:
            return
        seen.add(s.name)
        for ref in sorted(s.references):
            if ref in by_name:
                visit(by_name[ref])
        done.append(s)

    for s in sorted(shapes, key=lambda s: s.name):
        visit(s)
    return done


async def matching_shapes(source: Store, target: Store) -> list[TableShape]:
    """The tables to copy, in order, with the source's column order and the target's key; a CopyError when the
    two databases are not at the same schema."""
    src = {s.name: s for s in await source.tables.shapes()}
    dst = {s.name: s for s in await target.tables.shapes()}
    if set(src) != set(dst):
        only_src, only_dst = sorted(set(src) - set(dst)), sorted(set(dst) - set(src))
        raise CopyError(
            "两个数据库的表不一致"
            + (f"（只在源数据库中：{'、'.join(only_src)}）" if only_src else "")
            + (f"（只在目标数据库中：{'、'.join(only_dst)}）" if only_dst else "")
            + "：请先用同一版本的程序对两边都运行 python -m bot db migrate。"
        )
    out = []
    for name in src:
        if set(src[name].columns) != set(dst[name].columns):
            raise CopyError(
                f"表 {name} 的列在两个数据库中不一致：请先用同一版本的程序对两边都运行 python -m bot db migrate。"
            )
        out.append(TableShape(name, src[name].columns, dst[name].key, dst[name].references))
    return copy_order(out)


async def copy_database(
    source: Store, target: Store, *, batch: int = 5000, progress: Progress | None = None
) -> list[TableReport]:
    """Copy every table of `source` into `target` (both migrated to the same version) and compare them."""
    shapes = await matching_shapes(source, target)
    tickets = next((s for s in shapes if s.name == "tickets"), None)
    if tickets is not None:
        await _refuse_a_target_in_use(source, target, tickets, batch)
    sums: dict[str, Checksum] = {}
    read_back: dict[str, Checksum] = {}  # id-keyed tables: the target's rows, read back range by range
    removed: dict[str, int] = {}
    async with source.tables.snapshot():
        for shape in shapes:
            total = await source.tables.count(shape)
            check = sums[shape.name] = Checksum()
            if progress is not None:
                progress("copy", shape.name, 0, total)
            at = shape.columns.index(shape.key[0])
            there = read_back[shape.name] = Checksum()
            async for rows in _ahead(source.tables.read(shape, batch)):
                mine = Checksum()
                mine.add(rows)
                check.merge(mine)
                lo, hi = rows[0][at], rows[-1][at]
                if len(shape.key) == 1 and type(lo) is int and type(hi) is int:
                    # by id range: what is there already and equal (a re-run) is left alone, and what was
                    # written is read back at once, so the check needs no second pass over this table
                    now = await target.tables.read_range(shape, lo, hi)
                    if now == rows:
                        there.merge(mine)
                    else:
                        await target.tables.upsert(shape, rows)
                        there.add(await target.tables.read_range(shape, lo, hi))
                else:
                    read_back.pop(shape.name, None)
                    await target.tables.upsert(shape, rows)
                if progress is not None:
                    progress("copy", shape.name, check.rows, max(total, check.rows))
            await target.tables.finish(shape)
        # rows the source no longer has (a re-run after drafts were finished, leases given up): tables that
        # point to others first
        for shape in reversed(shapes):
            removed[shape.name] = 0
            if await target.tables.count(shape) > sums[shape.name].rows:
                key_at = [shape.columns.index(k) for k in shape.key]
                keys: set[tuple[Any, ...]] = set()
                async for rows in source.tables.read(shape, batch):
                    keys.update(tuple(r[i] for i in key_at) for r in rows)
                if shape.name not in DELETABLE:
                    raise CopyError(
                        f"目标数据库的表 {shape.name} 有源数据库没有的行：目标数据库似乎已在使用中。"
                        "为免丢失数据，没有删除它们；请确认 --to 指向的是新的数据库。"
                    )
                removed[shape.name] = await target.tables.keep_only(shape, keys)
    reports = []
    for shape in shapes:
        src = sums[shape.name]
        after = read_back.get(shape.name)
        if progress is not None:
            progress("check", shape.name, 0, src.rows)
        if after is not None:
            # read back while copying; a row the target has outside the ranges shows in its count
            rows_there = await target.tables.count(shape)
        else:
            after = Checksum()
            async for rows in target.tables.read(shape, batch):
                after.add(rows)
                if progress is not None:
                    progress("check", shape.name, after.rows, max(src.rows, after.rows))
            rows_there = after.rows
        if progress is not None:
            progress("check", shape.name, rows_there, max(src.rows, rows_there))
        reports.append(
            TableReport(shape.name, src.rows, rows_there, src.hex(), after.hex(), removed[shape.name])
        )
    return reports


async def _ahead(batches: AsyncIterator[list[tuple[Any, ...]]]) -> AsyncIterator[list[tuple[Any, ...]]]:
    """The batches of `batches`, the next one read while the caller writes the last (reading and writing each
    wait on a different database)."""
    queue: asyncio.Queue[list[tuple[Any, ...]] | None] = asyncio.Queue(maxsize=2)

    async def read() -> None:
        try:
            async for rows in batches:
                await queue.put(rows)
        finally:
            await queue.put(None)

    reader = asyncio.create_task(read())
    try:
        while (rows := await queue.get()) is not None:
            yield rows
        await reader  # its error, if it failed
    finally:
        if not reader.done():
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)


async def _refuse_a_target_in_use(source: Store, target: Store, tickets: TableShape, batch: int) -> None:
    """A target with a ticket the source has not is in use (a bot runs on it): copying would mix two
    deployments, so nothing is written. A ticket is the same one when what never changes about it is the same
    (id, number, who filed it, when, what they wrote); the rest may have moved on since an earlier copy."""
    fixed = tuple(
        c for c in ("id", "number", "citizen_id", "created_at", "description") if c in tickets.columns
    )
    tickets = TableShape(tickets.name, fixed or tickets.key, tickets.key, tickets.references)  # only those
    at = list(range(len(tickets.columns)))
    number = tickets.columns.index("number") if "number" in tickets.columns else 0
    theirs: dict[tuple[Any, ...], Any] = {}
    async for rows in target.tables.read(tickets, batch):
        theirs.update((tuple(canonical(r[i]) for i in at), r[number]) for r in rows)
    if not theirs:
        return
    async with source.tables.snapshot():
        async for rows in source.tables.read(tickets, batch):
            for r in rows:
                theirs.pop(tuple(canonical(r[i]) for i in at), None)
    if theirs:
        examples = "、".join(str(n) for n in list(theirs.values())[:3])
        raise CopyError(
            f"目标数据库已有 {len(theirs):,} 件源数据库没有的诉求（如 {examples}）：它似乎已在使用中。"
            "为免两边的数据混在一起，没有复制任何内容；请确认 --to 指向的是新的数据库。"
        )
