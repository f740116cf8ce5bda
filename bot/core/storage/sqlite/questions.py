"""The question log on SQLite: what people asked and whether it was answered, for the digest's top lists and
the knowledge gaps. Rows are queued and written in batches, so an answer never waits for its statistics row;
a row that cannot be written is skipped and logged on its own, never taking the rest of its batch with it."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any

from bot.core.storage.protocols import NOT_A_GAP, LoggedQuestion, QuestionCount
from bot.core.storage.rows import from_ts, to_ts

from .database import Database

log = logging.getLogger(__name__)

INSERT = "INSERT INTO questions(user_id, text, intent, target, answered, at, gap) VALUES (?,?,?,?,?,?,?)"
COLUMNS = "id, user_id, text, intent, target, gap, at"


def _storable(text: str) -> str:
    # lone surrogates (from a broken client) cannot be encoded; keep the rest of the question
    return text.encode("utf-8", "replace").decode("utf-8")


class SqliteQuestions:
    def __init__(self, db: Database):
        self.db = db
        self._pending: list[tuple[Any, ...]] = []
        self._task: asyncio.Task[None] | None = None

    async def log(
        self,
        user_id: str,
        text: str,
        intent: str,
        target: str | None,
        answered: bool,
        at: dt.datetime | None = None,
        gap: str | None = None,
    ) -> None:
        ts = to_ts(at or self.db.clock.now())
        if gap is None:
            # a caller that does not say: an unanswered question that matched nothing is a gap
            gap = "nomatch" if not answered and intent == "unknown" else NOT_A_GAP
        self._pending.append(
            (_storable(user_id), _storable(text[:500]), intent, target, int(answered), ts, gap or None)
        )
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._write())

    async def _write(self) -> None:
        await asyncio.sleep(0.02)  # gather the rows of the messages being handled right now
        while self._pending:
            rows, self._pending = self._pending, []
            try:
                await self.db.write_many(INSERT, rows)
            except Exception:  # noqa: BLE001 - find the bad row; write the others one by one
                for row in rows:
                    try:
                        await self.db.write(INSERT, row)
                    except Exception:  # noqa: BLE001 - statistics must never stop answering
                        log.exception("skipped one question-log row that could not be written")

    async def flush(self) -> None:
        # log() starts a writer whenever none is running, and the writer drains every row queued meanwhile,
        # so waiting for the running writer is enough
        while self._task is not None and not self._task.done():
            await self._task

    async def top(
        self, start: dt.datetime, end: dt.datetime, *, unanswered: bool, limit: int
    ) -> list[QuestionCount]:
        if unanswered:
            sql = (
                "SELECT text, COUNT(*) AS n FROM questions WHERE at >= ? AND at < ? AND answered = 0"
                " GROUP BY text ORDER BY n DESC, text LIMIT ?"
            )
        else:
            sql = (
                "SELECT target, COUNT(*) AS n FROM questions WHERE at >= ? AND at < ? AND target IS NOT NULL"
                " GROUP BY target ORDER BY n DESC, target LIMIT ?"
            )
        await self.flush()
        rows = await self.db.fetchall(sql, (to_ts(start), to_ts(end), limit))
        return [QuestionCount(key=k, count=n) for k, n in rows]

    async def gaps(self, start: dt.datetime, end: dt.datetime, *, limit: int) -> list[LoggedQuestion]:
        await self.flush()
        rows = await self.db.fetchall(
            f"SELECT {COLUMNS} FROM questions WHERE at >= ? AND at < ? AND gap IS NOT NULL"
            " ORDER BY at DESC, id DESC LIMIT ?",
            (to_ts(start), to_ts(end), limit),
        )
        return [self._row(r) for r in rows]

    async def get(self, question_id: int) -> LoggedQuestion | None:
        await self.flush()
        row = await self.db.fetchone(f"SELECT {COLUMNS} FROM questions WHERE id = ?", (question_id,))
        return self._row(row) if row else None

    async def clarified(self, user_id: str, since: dt.datetime) -> int:
        await self.flush()
        return await self.db.write(
            "UPDATE questions SET gap = NULL WHERE user_id = ? AND at >= ? AND gap = 'clarify'",
            (user_id, to_ts(since)),
        )

    def _row(self, r: Any) -> LoggedQuestion:
        return LoggedQuestion(r[0], r[1], r[2], r[3], r[4], r[5], from_ts(r[6], self.db.tz))  # type: ignore[arg-type]
