"""Saved enterprise profiles and policy questions on SQLite (惠企政策, migration 11)."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from typing import Any

from bot.core.messages import Notification
from bot.core.storage.protocols import QuestionCount, SavedProfile
from bot.core.storage.rows import from_ts, to_ts

from .database import Database
from .tickets import insert_notifications

COLUMNS = "user_id, profile, consented_at, updated_at, subscribed, notified"


def _storable(text: str) -> str:
    return text.encode("utf-8", "replace").decode("utf-8")


class SqlitePolicies:
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
        row = await self.db.fetchone(f"SELECT {COLUMNS} FROM enterprise_profiles WHERE user_id=?", (user_id,))
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
        raw = json.dumps(profile, ensure_ascii=False, sort_keys=True)
        ts = to_ts(at)
        await self.db.write(
            "INSERT INTO enterprise_profiles(user_id, profile, consented_at, updated_at, subscribed, notified)"
            " VALUES (?,?,?,?,?,?) ON CONFLICT(user_id) DO UPDATE SET profile=excluded.profile,"
            " updated_at=excluded.updated_at,"
            " subscribed=CASE WHEN ? IS NULL THEN enterprise_profiles.subscribed ELSE excluded.subscribed END,"
            " notified=CASE WHEN ? IS NULL THEN enterprise_profiles.notified ELSE excluded.notified END",
            (
                _storable(user_id),
                raw,
                ts,
                ts,
                int(bool(subscribed)),
                json.dumps(notified or {}, sort_keys=True),
                subscribed,
                None if notified is None else 1,
            ),
        )

    async def delete_profile(self, user_id: str) -> bool:
        return await self.db.write("DELETE FROM enterprise_profiles WHERE user_id=?", (user_id,)) > 0

    async def set_subscribed(self, user_id: str, subscribed: bool, at: dt.datetime) -> bool:
        changed = await self.db.write(
            "UPDATE enterprise_profiles SET subscribed=?, updated_at=? WHERE user_id=?",
            (int(subscribed), to_ts(at), user_id),
        )
        return changed > 0

    async def subscribers(self, after: str, limit: int) -> list[SavedProfile]:
        rows = await self.db.fetchall(
            f"SELECT {COLUMNS} FROM enterprise_profiles WHERE subscribed = 1 AND user_id > ?"
            " ORDER BY user_id LIMIT ?",
            (after, limit),
        )
        return [self._saved(r) for r in rows]

    async def queue_push(self, user_id: str, notification: Notification, notified: dict[str, str]) -> bool:
        at = to_ts(self.db.clock.now())
        async with self.db.transaction() as tx:
            if not await insert_notifications(tx, at, [notification]):
                return False
            await tx.execute(
                "UPDATE enterprise_profiles SET notified=? WHERE user_id=?",
                (json.dumps(notified, sort_keys=True), user_id),
            )
            return True

    async def profile_counts(self) -> dict[str, dict[str, int]]:
        rows = await self.db.fetchall("SELECT profile, subscribed FROM enterprise_profiles")
        return _counts((json.loads(p), bool(s)) for p, s in rows)

    async def log_question(self, text: str, policies: list[str], answered: bool, at: dt.datetime) -> None:
        await self.db.write(
            "INSERT INTO policy_questions(at, text, policies, answered) VALUES (?,?,?,?)",
            (to_ts(at), _storable(text[:300]), json.dumps(policies), int(answered)),
        )

    async def top_policies(self, start: dt.datetime, end: dt.datetime, limit: int) -> list[QuestionCount]:
        rows = await self.db.fetchall(
            "SELECT value, COUNT(*) AS n FROM policy_questions, json_each(policy_questions.policies)"
            " WHERE at >= ? AND at < ? GROUP BY value ORDER BY n DESC, value LIMIT ?",
            (to_ts(start), to_ts(end), limit),
        )
        return [QuestionCount(key=k, count=n) for k, n in rows]

    async def unanswered(self, start: dt.datetime, end: dt.datetime, limit: int) -> list[QuestionCount]:
        rows = await self.db.fetchall(
            "SELECT text, COUNT(*) AS n FROM policy_questions WHERE at >= ? AND at < ? AND answered = 0"
            " GROUP BY text ORDER BY n DESC, text LIMIT ?",
            (to_ts(start), to_ts(end), limit),
        )
        return [QuestionCount(key=k, count=n) for k, n in rows]


def _counts(rows: Any) -> dict[str, dict[str, int]]:
    """Counts for staff: how many profiles, subscribed, and by size, industry and place (no profile itself)."""
    total = subscribed = 0
    by: dict[str, Counter[str]] = {"规模": Counter(), "行业": Counter(), "属地": Counter()}
    for profile, sub in rows:
        total += 1
        subscribed += sub
        for key, counter in by.items():
            value = profile.get(key)
            counter[str(value) if value not in (None, "") else "未填"] += 1
    return {"total": {"profiles": total, "subscribed": subscribed}, **{k: dict(v) for k, v in by.items()}}
