"""Saved enterprise profiles and policy questions on PostgreSQL (惠企政策, migration 11)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from bot.core.messages import Notification
from bot.core.storage.protocols import QuestionCount, SavedProfile
from bot.core.storage.rows import from_ts, to_ts
from bot.core.storage.sqlite.policies import _counts

from .batch import write_beside
from .database import Database

COLUMNS = "user_id, profile, consented_at, updated_at, subscribed, notified"


def _storable(text: str) -> str:
    return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")


class PostgresPolicies:
    def __init__(self, db: Database):
        self.db = db

    def _saved(self, r: Any) -> SavedProfile:
        return SavedProfile(
            user_id=r[0],
            profile=json.loads(r[1]),
            consented_at=from_ts(r[2], self.db.tz),  # type: ignore[arg-type]
            updated_at=from_ts(r[3], self.db.tz),  # type: ignore[arg-type]
            subscribed=bool(r[4]),
            notified=json.loads(r[5] or "{}"),
        )

    async def get_profile(self, user_id: str) -> SavedProfile | None:
        row = await self.db.fetchrow(f"SELECT {COLUMNS} FROM enterprise_profiles WHERE user_id = $1", user_id)
        return self._saved(row) if row else None

    async def save_profile(
        self,
        user_id: str,
        profile: dict[str, Any],
        at: dt.datetime,
        *,
        subscribed: bool | None = None,
        notified: dict[str, str] | None = None,
    ) -> None:
        await self.db.execute(
            "INSERT INTO enterprise_profiles(user_id, profile, consented_at, updated_at, subscribed, notified)"
            " VALUES ($1, $2, $3, $3, $4, $5) ON CONFLICT (user_id) DO UPDATE SET profile = EXCLUDED.profile,"
            " updated_at = EXCLUDED.updated_at,"
            " subscribed = CASE WHEN $6 THEN EXCLUDED.subscribed ELSE enterprise_profiles.subscribed END,"
            " notified = CASE WHEN $7 THEN EXCLUDED.notified ELSE enterprise_profiles.notified END",
            _storable(user_id),
            json.dumps(profile, ensure_ascii=False, sort_keys=True),
            to_ts(at),
            int(bool(subscribed)),
            json.dumps(notified or {}, sort_keys=True),
            subscribed is not None,
            notified is not None,
        )

    async def delete_profile(self, user_id: str) -> bool:
        status = await self.db.execute("DELETE FROM enterprise_profiles WHERE user_id = $1", user_id)
        return status.endswith(" 1")

    async def set_subscribed(self, user_id: str, subscribed: bool, at: dt.datetime) -> bool:
        status = await self.db.execute(
            "UPDATE enterprise_profiles SET subscribed = $1, updated_at = $2 WHERE user_id = $3",
            int(subscribed),
            to_ts(at),
            user_id,
        )
        return status.endswith(" 1")

    async def subscribers(self, after: str, limit: int) -> list[SavedProfile]:
        rows = await self.db.fetch(
            f"SELECT {COLUMNS} FROM enterprise_profiles WHERE subscribed = 1 AND user_id > $1"
            " ORDER BY user_id LIMIT $2",
            after,
            limit,
        )
        return [self._saved(r) for r in rows]

    async def queue_push(self, user_id: str, notification: Notification, notified: dict[str, str]) -> bool:
        async with self.db.transaction() as tx:
            if not await write_beside(tx, notifications=[(notification, to_ts(self.db.clock.now()))]):
                return False
            await tx.execute(
                "UPDATE enterprise_profiles SET notified = $1 WHERE user_id = $2",
                json.dumps(notified, sort_keys=True),
                user_id,
            )
            return True

    async def profile_counts(self) -> dict[str, dict[str, int]]:
        rows = await self.db.fetch("SELECT profile, subscribed FROM enterprise_profiles")
        return _counts((json.loads(r[0]), bool(r[1])) for r in rows)

    async def log_question(self, text: str, policies: list[str], answered: bool, at: dt.datetime) -> None:
        await self.db.execute(
            "INSERT INTO policy_questions(at, text, policies, answered) VALUES ($1, $2, $3, $4)",
            to_ts(at),
            _storable(text[:300]),
            json.dumps(policies),
            int(answered),
        )

    async def top_policies(self, start: dt.datetime, end: dt.datetime, limit: int) -> list[QuestionCount]:
        rows = await self.db.fetch(
            "SELECT p.value AS id, COUNT(*) AS n FROM policy_questions q,"
            " json_array_elements_text(q.policies::json) AS p(value)"
            " WHERE q.at >= $1 AND q.at < $2 GROUP BY p.value ORDER BY n DESC, p.value LIMIT $3",
            to_ts(start),
            to_ts(end),
            limit,
        )
        return [QuestionCount(key=r[0], count=r[1]) for r in rows]

    async def unanswered(self, start: dt.datetime, end: dt.datetime, limit: int) -> list[QuestionCount]:
        rows = await self.db.fetch(
            "SELECT text, COUNT(*) AS n FROM policy_questions WHERE at >= $1 AND at < $2 AND answered = 0"
            " GROUP BY text ORDER BY n DESC, text LIMIT $3",
            to_ts(start),
            to_ts(end),
            limit,
        )
        return [QuestionCount(key=r[0], count=r[1]) for r in rows]
