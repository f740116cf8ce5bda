"""The 惠企政策 service: matching a person's enterprise against the 政策库, their saved profile (with consent),
the conversation's state, the push (直达快享) and the question log. Channel-free; the dialogue
(bot/core/answering/policy_dialogue.py), the commands (/profile, /unsubscribe, /policystats) and the CLI use it.

Push: a subscriber is told when a policy that is new or changed since they were last told matches their saved
profile (符合, in force). New and changed policies are found by fingerprints: the library's, kept in the
database (store.meta), says whether anything changed since the last complete sweep; each person's `notified`
map says what they were told. A push goes through the outbox with the key policy-push:<person>:<day> and what
it told is recorded in the same transaction, so a restart loses nothing and sends nothing twice, and a person
gets at most one a day; what could not be told today (a message already went out) is told on a later day.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from bot.core.clock import Clock
from bot.core.messages import Notification, Recipient, Reply
from bot.core.texts import Texts

from .engine import PolicyEngine
from .extract import ProfileExtractor, load_policy_cues
from .library import PolicyLibrary
from .match import MET, Match, in_force
from .models import Policy
from .profile import Profile, ProfileError, ProfileView
from .texts import PUSH, PolicyTexts

log = logging.getLogger(__name__)

STATE_PREFIX = "policy:"  # conversation state key in the store's state repository
LIBRARY_KEY = "policy_library_fingerprint"  # meta: the library a sweep last completed for
# meta: when the library of the last complete sweep was loaded. With several processes, one reloaded (or restarted)
# before the others holds the newer 政策库: a process still on an older one must not sweep with it (it would tell
# people the old text of a changed policy), so it waits for its own reload.
LOADED_KEY = "policy_library_loaded_at"
PUSH_PAGE = 500


def push_key(user_id: str, day: dt.date) -> str:
    return f"policy-push:{user_id}:{day.isoformat()}"


class PolicyDesk:
    def __init__(
        self,
        library: PolicyLibrary,
        clock: Clock,
        texts: Texts,
        store: Any = None,
        *,
        cues: dict[str, Any] | None = None,
        expiring_days: int = 30,
        push_hours: tuple[dt.time, dt.time] = (dt.time(9, 0), dt.time(17, 0)),
        state_minutes: int = 30,
        memory: dict[str, dict[str, Any]] | None = None,
    ):
        self.library = library
        self.clock = clock
        self.loaded_at = clock.now()  # when this desk's 政策库 was read (start-up or reload)
        self.store = store
        self.cues = cues if cues is not None else load_policy_cues()
        self.engine = PolicyEngine(library, expiring_days)
        self.extractor = ProfileExtractor(library, self.cues)
        self.texts = PolicyTexts(texts, library)
        self.expiring_days = expiring_days
        self.push_hours = push_hours
        self.state_ttl = dt.timedelta(minutes=state_minutes)
        # conversation state when there is no database (a reload's new desk takes over the old one's)
        self.memory: dict[str, dict[str, Any]] = memory if memory is not None else {}
        self._aliases = sorted(
            ((a.lower(), p.id) for p in library.policies.values() for a in (p.name, *p.aliases)),
            key=lambda t: -len(t[0]),
        )

    def today(self) -> dt.date:
        return self.clock.now().date()

    # -- profiles and matching ----------------------------------------------------------------------------
    def view(self, profile: Profile) -> ProfileView:
        return profile.view(self.library, self.today())

    def matches(self, profile: Profile) -> list[Match]:
        return self.engine.match(self.view(profile))

    def explain(self, policy: Policy, profile: Profile) -> Match:
        return self.engine.explain(policy, self.view(profile))

    def find_policies(self, text: str) -> list[Policy]:
        """The policies a message names (by name or alias), those in force first, then longest names first;
        one policy once."""
        low = self.extractor.prepare(text).lower()
        found: list[Policy] = []
        hits: list[str] = []
        for alias, pid in self._aliases:
            if hits and len(alias) < len(hits[-1]):
                # a shorter name inside a longer one found is not named; one alias may name several policies
                for hit in hits:
                    low = low.replace(hit, "□")
                hits = []
            if alias in low:
                policy = self.library.policies[pid]
                if policy not in found:
                    found.append(policy)
                hits.append(alias)
        # a name shared by this year's policy and last year's expired one means the one in force
        today = self.today()
        return sorted(found, key=lambda p: not in_force(p, today))

    def profile_from(self, data: dict[str, Any] | None) -> Profile:
        if not data:
            return Profile()
        try:
            return Profile.from_json(data, self.library)
        except ProfileError:
            # the library changed under a saved profile (a removed fact): keep what still reads
            good = {}
            for key, value in data.items():
                try:
                    Profile.from_json({key: value}, self.library)
                    good[key] = value
                except ProfileError:
                    continue
            return Profile.from_json(good, self.library)

    # -- conversation state --------------------------------------------------------------------------------
    async def load_state(self, user_id: str) -> dict[str, Any] | None:
        data = await self.store.state.load(STATE_PREFIX + user_id) if self.store else self.memory.get(user_id)
        if not data:
            return None
        at = dt.datetime.fromisoformat(data.get("at", "1970-01-01T00:00:00+00:00"))
        if self.clock.now() - at > self.state_ttl:
            await self.clear_state(user_id)
            return None
        return data

    async def save_state(self, user_id: str, data: dict[str, Any]) -> None:
        data = {**data, "at": self.clock.now().isoformat()}
        if self.store is not None:
            await self.store.state.save(STATE_PREFIX + user_id, data)
        else:
            self.memory[user_id] = data

    async def clear_state(self, user_id: str) -> None:
        if self.store is not None:
            await self.store.state.delete(STATE_PREFIX + user_id)
        else:
            self.memory.pop(user_id, None)

    # -- saved profiles (only with consent; only the owner's id reads them) ------------------------------
    @property
    def can_save(self) -> bool:
        return self.store is not None

    async def saved(self, user_id: str) -> Any:
        return await self.store.policies.get_profile(user_id) if self.store is not None else None

    async def saved_profile(self, user_id: str) -> Profile | None:
        saved = await self.saved(user_id)
        return self.profile_from(saved.profile) if saved is not None else None

    def _told(self, profile: Profile) -> dict[str, str]:
        """What a person has seen of the policies that match now: saving or changing a profile shows the list,
        so only later news is pushed."""
        fps = self.library.fingerprints()
        return {m.policy.id: fps[m.policy.id] for m in self.matches(profile) if m.status == MET}

    async def save(self, user_id: str, profile: Profile, *, subscribe: bool | None) -> None:
        await self.store.policies.save_profile(
            user_id, profile.to_json(), self.clock.now(), subscribed=subscribe, notified=self._told(profile)
        )

    async def delete(self, user_id: str) -> bool:
        await self.clear_state(user_id)
        return await self.store.policies.delete_profile(user_id) if self.store is not None else False

    async def set_subscribed(self, user_id: str, subscribed: bool) -> bool:
        if self.store is None:
            return False
        return await self.store.policies.set_subscribed(user_id, subscribed, self.clock.now())

    # -- statistics ---------------------------------------------------------------------------------------
    async def log_question(self, text: str, policy_ids: list[str], answered: bool) -> None:
        if self.store is None:
            return
        try:
            await self.store.policies.log_question(text, policy_ids, answered, self.clock.now())
        except Exception:  # the answer matters more than the statistics
            log.exception("could not log a policy question")

    # -- push (直达快享) -------------------------------------------------------------------------------------
    def in_push_hours(self, now: dt.datetime) -> bool:
        start, end = self.push_hours
        return start <= now.time() < end

    async def push(self, now: dt.datetime) -> int:
        """Queue today's message for every subscriber a new or changed policy now matches; how many were
        queued. The caller decides that today is a working day and now is within working hours."""
        if self.store is None or not self.library:
            return 0
        current = self.library.fingerprint()
        if await self.store.meta.get(LIBRARY_KEY) == current:
            return 0  # every subscriber has been told about this library already
        newer = await self.store.meta.get(LOADED_KEY)
        if newer is not None and dt.datetime.fromisoformat(newer) > self.loaded_at:
            log.warning("policy push skipped: another process swept with a 政策库 loaded after this one's")
            return 0
        fps = self.library.fingerprints()
        queued = waiting = 0
        after = ""
        while True:
            page = await self.store.policies.subscribers(after, PUSH_PAGE)
            if not page:
                break
            after = page[-1].user_id
            for saved in page:
                outcome = await self._push_one(saved, fps, now)
                queued += outcome == "queued"
                waiting += outcome == "waiting"
        if not waiting:
            await self.store.meta.set(LIBRARY_KEY, current)
            await self.store.meta.set(LOADED_KEY, self.loaded_at.isoformat())
        return queued

    async def _push_one(self, saved: Any, fps: dict[str, str], now: dt.datetime) -> str:
        profile = self.profile_from(saved.profile)
        view = profile.view(self.library, now.date())
        news = [
            m
            for m in self.engine.match(view, possible=False)
            if saved.notified.get(m.policy.id) != fps[m.policy.id]
        ]
        if not news:
            return "nothing"
        items = []
        for m in news:
            item = self.texts.match_item(m, now.date())
            item["changed"] = m.policy.id in saved.notified
            items.append(item)
        html = self.texts.texts.render(PUSH, items=items)
        note = Notification(
            Recipient("user", saved.user_id), Reply(html), push_key(saved.user_id, now.date())
        )
        told = {**saved.notified, **{m.policy.id: fps[m.policy.id] for m in news}}
        if await self.store.policies.queue_push(saved.user_id, note, told):
            return "queued"
        return "waiting"  # already one message today: the rest goes on a later working day

    # -- the staff's view: counts only ---------------------------------------------------------------------
    async def staff_summary(self) -> str:
        counts = await self.store.policies.profile_counts()
        by_industry: dict[str, int] = {}
        for code, n in counts.get("行业", {}).items():
            node = self.library.industries.get(code)
            label = f"{node.section} {self.library.industries.node(node.section).short}" if node else code
            by_industry[label] = by_industry.get(label, 0) + n
        counts = {**counts, "行业": by_industry}
        now = self.clock.now()
        # the window ends just after now: a question asked this very second counts
        top = await self.store.policies.top_policies(
            now - dt.timedelta(days=30), now + dt.timedelta(seconds=1), 5
        )
        names = {p.id: p.name for p in self.library.policies.values()}
        return self.texts.say(
            "policies/profile.html.j2", "staff_counts", counts=counts, top=top, policy_names=names
        )


def profile_json(text: str) -> dict[str, Any]:
    """The --profile argument of the CLI: a JSON object."""
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ProfileError("企业画像应为 JSON 对象")
    return data
