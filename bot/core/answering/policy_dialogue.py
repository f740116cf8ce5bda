"""The 惠企政策 conversation: "我们是做软件的小微企业，有什么补贴" → the few facts still needed, asked with buttons,
then the matching policies best first; "为什么没有研发加计扣除" → which condition is not met.

A message is a policy question when it asks what policies, subsidies or tax breaks there are for an enterprise
(the cues are data: `intent` in intents/policies.yaml), or names a policy of the 政策库 ("稳岗返还能拿吗"). Questions
about how to do an item ("政策兑现怎么申请", "是什么意思") stay with the 办事指南 answers. The state of a policy
conversation (the profile so far, what was asked) is kept per person in the store, like an intake draft, and
expires after 30 minutes. What it asks: only facts that decide some policy (size, industry, place, founding
year, entity, taxpayer type), at most three questions, each once; "先看结果" lists at once. A stated size the
numbers contradict is asked about, never guessed; an industry that is not recognised gets the nearest sections.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from bot.core.callbacks import Prefix, data
from bot.core.messages import Button, Incoming, Reply
from bot.core.policies.desk import PolicyDesk
from bot.core.policies.match import MET
from bot.core.policies.profile import SIZE_WORDS, Profile, size_words
from bot.core.policies.texts import ASK, PROFILE
from bot.core.text.normalize import compact

MAX_QUESTIONS = 3
PAGE = 6
# a check's field -> the question that settles it
ASKABLE = {
    "size": "size",
    "industry": "industry",
    "place": "place",
    "years": "founded",
    "entity": "entity",
    "taxpayer": "taxpayer",
}
# sections offered as buttons when the industry is asked (the most common for small enterprises)
COMMON_SECTIONS = ("I", "C", "F", "H", "E", "G", "L", "M", "O", "A")
DONT_KNOW = re.compile(r"^(?:不知道|不清楚|不确定|跳过|算了|不好说|没有|无|不了解)$")


def _alternation(words: list[str]) -> re.Pattern[str]:
    words = sorted({compact(w) for w in words if compact(w)}, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, words))) if words else re.compile(r"(?!x)x")


@dataclass
class PolicyIntent:
    """Is this message a policy question, and which kind: list, explain (a named policy), or why (a named
    policy the bot does not know)."""

    nouns: re.Pattern[str]
    list_asks: re.Pattern[str]
    list_patterns: re.Pattern[str]
    why_asks: re.Pattern[str]
    can_asks: re.Pattern[str]
    enterprise: re.Pattern[str]
    item_asks: re.Pattern[str]

    @classmethod
    def from_cues(cls, cues: dict[str, Any]) -> PolicyIntent:
        c = cues["intent"]
        return cls(
            nouns=_alternation(c["nouns"]),
            list_asks=_alternation(c["list_asks"]),
            list_patterns=re.compile("|".join(f"(?:{p})" for p in c.get("list_patterns", [])) or r"(?!x)x"),
            why_asks=_alternation(c["why_asks"]),
            can_asks=_alternation(c["can_asks"]),
            enterprise=_alternation(c["enterprise_words"]),
            item_asks=_alternation(c["item_asks"]),
        )

    def kind(self, flat: str, *, named: bool, facts: bool, in_conversation: bool) -> str | None:
        if self.item_asks.search(flat) and not self.why_asks.search(flat):
            return None  # 怎么申请, 是什么意思: the 办事指南 answers that
        if named:
            return "explain"
        if self.why_asks.search(flat) and self.nouns.search(flat):
            return "unknown_policy"
        if (self.nouns.search(flat) and self.list_asks.search(flat)) or self.list_patterns.search(flat):
            if self.enterprise.search(flat) or facts or in_conversation:
                return "list"
        return None


class PolicyDialogue:
    def __init__(
        self,
        desk: PolicyDesk,
        item_names: Iterable[str] = (),
        looks_like_question: Callable[[str], bool] | None = None,
    ):
        """`item_names`: the names and aliases of the knowledge base's entries. A policy called by one of them
        ("创业担保贷款" is also the 办事指南 for a person) is the policy only when an enterprise is speaking.
        `looks_like_question`: whether a typed message is a question of its own ("护照怎么办"), which is then
        answered as one instead of being taken as the answer to the question the bot asked."""
        self.desk = desk
        self._looks_like_question = looks_like_question or (lambda text: False)
        self.intent = PolicyIntent.from_cues(desk.cues)
        self.words = desk.texts
        names = {compact(n) for n in item_names if compact(n)}
        self._shared = {
            p.id
            for p in desk.library.policies.values()
            if any(compact(a) in names for a in (p.name, *p.aliases))
        }

    # -- helpers -----------------------------------------------------------------------------------------
    def _button(self, kind: str, *parts: object, value: str = "") -> Button:
        label = self.words.say(ASK, "button", kind=kind, value=value)
        return Button(label[:40], data(Prefix.POLICY, *parts))

    def _profile(self, state: dict[str, Any] | None) -> Profile:
        return self.desk.profile_from((state or {}).get("profile"))

    async def _base_profile(self, user_id: str, state: dict[str, Any] | None) -> Profile:
        """The saved profile (when there is one) with what this conversation added."""
        saved = await self.desk.saved_profile(user_id) or Profile()
        return saved.merged(self._profile(state))

    # -- entry points ------------------------------------------------------------------------------------
    async def handle(self, msg: Incoming) -> list[Reply] | None:
        """The replies when the message belongs to a policy conversation; None when it does not."""
        text = (msg.text or "").strip()
        flat = compact(text)
        if not flat:
            return None
        state = await self.desk.load_state(msg.user_id)
        extraction = self.desk.extractor.extract(text, self.desk.today())
        named = self.desk.find_policies(text)
        facts = not extraction.profile.is_empty()
        if (
            named
            and all(p.id in self._shared for p in named)
            and not (facts or state is not None or self.intent.enterprise.search(flat))
        ):
            named = []  # a person asking about the 办事指南 of the same name
        kind = self.intent.kind(flat, named=bool(named), facts=facts, in_conversation=state is not None)
        pending = (state or {}).get("pending")
        if kind is None and pending:
            return await self._answer(msg, state or {}, text, extraction)
        if kind is None:
            return None
        if kind == "explain":
            return await self._explain(msg, state, named[0], extraction.profile, text)
        if kind == "unknown_policy":
            await self.desk.log_question(text, [], False)
            return [Reply(self.words.say(ASK, "not_found"))]
        state = dict(state or {})
        if facts:
            # a new description starts again from the saved profile: "我们是做直播带货的公司" after talking about
            # another enterprise must not keep that one's industry
            state.pop("profile", None)
        state.update(asked=[], pending=None, offset=0, text=text[:200])
        profile = (await self._base_profile(msg.user_id, state)).merged(extraction.profile)
        return await self._continue(msg.user_id, state, profile, unknown_industry=extraction.unknown_industry)

    async def callback(self, msg: Incoming) -> list[Reply]:
        if msg.is_group:
            # the policy buttons are only ever sent in a private chat; in a group they would show a profile
            return [Reply(self.words.say(PROFILE, "private_only"))]
        parts = (msg.callback or "").split(":")[1:]
        state = await self.desk.load_state(msg.user_id)
        action = parts[0] if parts else ""
        if action in ("save", "keep", "del", "sub", "unsub"):
            return await self._profile_button(msg, action, parts[1:], state)
        if action == "why" and len(parts) == 2 and parts[1] in self.desk.library.policies:
            policy = self.desk.library.policies[parts[1]]
            return await self._explain(msg, state, policy, Profile(), "")
        if action == "list":
            state = {"asked": list(ASKABLE.values()), "pending": None, "offset": 0, "text": ""}
            return await self._list(msg.user_id, state, await self._base_profile(msg.user_id, None))
        if state is None:
            return [Reply(self.words.say(ASK, "expired"))]
        profile = self._profile(state)
        if action == "more":
            state["offset"] = int(state.get("offset", 0)) + PAGE
            return await self._list(msg.user_id, state, await self._base_profile(msg.user_id, state))
        if action == "skip":
            state["pending"] = None
            state["asked"] = [*state.get("asked", []), *ASKABLE.values()]
            return await self._continue(msg.user_id, state, await self._base_profile(msg.user_id, state))
        answer = self._button_answer(action, parts[1:])
        if answer is None:
            return [Reply(self.words.say(ASK, "expired"))]
        field, facts = answer
        if field == "conflict":
            facts["规模已确认"] = True
        try:
            newer = Profile.from_json(facts, self.desk.library)
        except ValueError:
            return [Reply(self.words.say(ASK, "expired"))]
        state["asked"] = [*state.get("asked", []), field]
        state["pending"] = None
        profile = profile.merged(newer)
        state["profile"] = profile.to_json()
        return await self._continue(msg.user_id, state, (await self._base_profile(msg.user_id, state)))

    # -- the flow ----------------------------------------------------------------------------------------
    async def _answer(
        self, msg: Incoming, state: dict[str, Any], text: str, extraction: Any
    ) -> list[Reply] | None:
        """A typed answer to the question asked."""
        pending = state["pending"]
        flat = compact(text)
        newer = extraction.profile
        if newer.is_empty() and self._looks_like_question(text):
            return None  # a question of its own: the ordinary answers take it; the state stays
        if pending == "industry" and newer.industry is None:
            node = self.desk.library.industries.resolve(text)
            if node is not None:
                newer = newer.merged(Profile(industry=node.code))
            elif len(flat) <= 12 and not DONT_KNOW.match(flat):
                reply = self._choose_industry(state, flat)
                await self._save(msg.user_id, state)
                return reply
        if pending == "place" and newer.place is None and len(flat) <= 12 and not DONT_KNOW.match(flat):
            newer = newer.merged(Profile(place=self.desk.library.canonical_place(flat)))
        if newer.is_empty():
            if DONT_KNOW.match(flat):
                state["asked"] = [*state.get("asked", []), pending]
                state["pending"] = None
                return await self._continue(msg.user_id, state, await self._base_profile(msg.user_id, state))
            if len(flat) > 12:
                return None  # something else entirely: the ordinary answers take it; the state stays
            return [
                Reply(self.words.say(ASK, "not_understood", field=pending), self._question_buttons(pending))
            ]
        state["asked"] = [*state.get("asked", []), pending]
        state["pending"] = None
        state["profile"] = self._profile(state).merged(newer).to_json()
        return await self._continue(msg.user_id, state, await self._base_profile(msg.user_id, state))

    async def _save(self, user_id: str, state: dict[str, Any]) -> dict[str, Any]:
        await self.desk.save_state(user_id, state)
        return state

    async def _continue(
        self, user_id: str, state: dict[str, Any], profile: Profile, *, unknown_industry: str | None = None
    ) -> list[Reply]:
        state["profile"] = profile.to_json()
        view = self.desk.view(profile)
        if view.conflict is not None and "conflict" not in state.get("asked", []):
            state["pending"] = "conflict"
            await self._save(user_id, state)
            return [self._conflict(view)]
        if profile.industry is None and unknown_industry and "industry" not in state.get("asked", []):
            reply = self._choose_industry(state, unknown_industry)
            await self._save(user_id, state)
            return reply
        field = self._next_question(view, state)
        if field is not None:
            state["pending"] = field
            await self._save(user_id, state)
            known = "；".join(f"{k}：{v}" if k else v for k, v in self.words.profile_lines(profile))
            html = self.words.say(ASK, "question", field=field, known=known)
            return [Reply(html, self._question_buttons(field))]
        return await self._list(user_id, state, profile)

    def _next_question(self, view: Any, state: dict[str, Any]) -> str | None:
        asked = state.get("asked", [])
        if len(asked) >= MAX_QUESTIONS:
            return None
        impact: dict[str, int] = {}
        for m in self.desk.engine.match(view):
            if m.status == MET:
                continue
            for c in m.unknown:
                field = ASKABLE.get(c.field)
                if field and field not in asked:
                    impact[field] = impact.get(field, 0) + 1
        if not impact:
            return None
        order = list(ASKABLE.values())
        return max(impact, key=lambda f: (impact[f], -order.index(f)))

    def _question_buttons(self, field: str) -> list[list[Button]]:
        b = self._button
        rows: list[list[Button]]
        if field == "size":
            rows = [[b("", "a", "size", w, value=w) for w in ("微型", "小型", "中型", "大型")]]
        elif field == "industry":
            lib = self.desk.library.industries
            buttons = [b("", "ind", s, value=lib.node(s).short) for s in COMMON_SECTIONS if lib.get(s)]
            rows = [buttons[i : i + 4] for i in range(0, len(buttons), 4)]
        elif field == "place":
            rows = [
                [b("here", "a", "place", "here", value=self._here()), b("elsewhere", "a", "place", "other")]
            ]
        elif field == "founded":
            rows = [
                [b("y0", "a", "founded", "0"), b("y1", "a", "founded", "1"), b("y3", "a", "founded", "3")]
            ]
        elif field == "entity":
            rows = [
                [
                    b("", "a", "entity", e, value=e)
                    for e in ("企业", "个体工商户", "农民专业合作社", "社会组织")
                ]
            ]
        elif field == "taxpayer":
            rows = [
                [
                    b("", "a", "taxpayer", "s", value="小规模纳税人"),
                    b("", "a", "taxpayer", "g", value="一般纳税人"),
                ]
            ]
        else:
            rows = []
        rows.append([b("skip", "skip")])
        return rows

    def _conflict(self, view: Any) -> Reply:
        profile = view.profile
        stated = size_words(profile.sizes)
        indicated = size_words(view.indicated or view.derived_sizes)
        numbers = [
            {"key": key, "lo": _num(iv.lo), "hi": None if iv.hi == float("inf") else _num(iv.hi)}
            for key in ("employees", "revenue", "assets")
            if (iv := profile.numbers.get(key)) is not None
        ]
        html = self.words.say(ASK, "conflict", stated=stated, indicated=indicated, numbers=numbers)
        offered = (
            (view.indicated or frozenset())
            | (view.derived_sizes or frozenset())
            | (profile.sizes or frozenset())
        )
        choices = [w for w in ("微型", "小型", "中型", "大型") if SIZE_WORDS[w] & offered]
        return Reply(html, [[self._button("", "a", "conflict", w, value=w) for w in choices]])

    def _here(self) -> str:
        """The district the assistant serves: the most local place of the library."""
        places = list(self.desk.library.places.values())
        inner = [p for p in places if p.within]
        return (inner or places)[0].name if places else ""

    def _button_answer(self, action: str, parts: list[str]) -> tuple[str, dict[str, Any]] | None:
        """A pressed answer button as (the question it answers, profile facts)."""
        if action == "ind" and parts and self.desk.library.industries.get(parts[0]):
            return "industry", {"行业": parts[0]}
        if action != "a" or len(parts) != 2:
            return None
        field, value = parts
        if field in ("size", "conflict") and value in SIZE_WORDS:
            return field, {"规模": value}
        if field == "place" and value in ("here", "other"):
            return field, {"属地": self._here() if value == "here" else "其他地区"}
        if field == "founded" and value in ("0", "1", "3"):
            year = self.desk.today().year
            span = {"0": (year, year), "1": (year - 3, year - 1), "3": (year - 100, year - 4)}[value]
            return field, {"成立年份": list(span)}
        if field == "entity" and value in ("企业", "个体工商户", "农民专业合作社", "社会组织"):
            return field, {"主体类型": value}
        if field == "taxpayer" and value in ("s", "g"):
            return field, {"纳税人类型": "小规模纳税人" if value == "s" else "一般纳税人"}
        return None

    def _choose_industry(self, state: dict[str, Any], words: str) -> list[Reply]:
        lib = self.desk.library.industries
        near = lib.nearest_sections(words, 4)
        rows = [
            [self._button("", "ind", s, value=f"{s} {lib.node(s).short}") for s in near[i : i + 2]]
            for i in (0, 2)
        ]
        rows.append([self._button("skip", "skip")])
        state["pending"] = "industry"
        return [Reply(self.words.say(ASK, "unknown_industry", words=words), rows)]

    async def _list(self, user_id: str, state: dict[str, Any], profile: Profile) -> list[Reply]:
        view = self.desk.view(profile)
        matches = self.desk.engine.match(view)
        offset = int(state.get("offset", 0))
        html = self.words.listing(view, matches, shown=PAGE, offset=offset)
        eligible = [m for m in matches if m.status == MET]
        if offset == 0:
            # "asked" counts the policies people name; a list question is answered when some policy may apply
            await self.desk.log_question(state.get("text", ""), [], bool(matches))
        state["pending"] = None
        await self._save(user_id, state)
        rows = [
            [self._button("why", "why", m.policy.id, value=m.policy.name[:14])]
            for m in eligible[offset : offset + 3]
        ]
        if len(eligible) > offset + PAGE:
            rows.append([self._button("more", "more")])
        saved = await self.desk.saved_profile(user_id) if self.desk.can_save else None
        if (
            self.desk.can_save
            and (saved is None or saved.to_json() != profile.to_json())
            and not profile.is_empty()
        ):
            rows.append([self._button("save", "save")])
        return [Reply(html, rows)]

    async def _explain(
        self, msg: Incoming, state: dict[str, Any] | None, policy: Any, extracted: Profile, text: str
    ) -> list[Reply]:
        profile = (await self._base_profile(msg.user_id, state)).merged(extracted)
        m = self.desk.explain(policy, profile)
        html = self.words.explain(m, profile_known=not profile.is_empty())
        if text:
            await self.desk.log_question(text, [policy.id], True)
        if state is not None or not extracted.is_empty():
            new_state = dict(state or {})
            new_state.setdefault("asked", [])
            new_state["pending"] = None
            new_state["profile"] = self._profile(state).merged(extracted).to_json()
            await self._save(msg.user_id, new_state)
        return [Reply(html)]

    # -- saving the profile ------------------------------------------------------------------------------
    async def _profile_button(
        self, msg: Incoming, action: str, parts: list[str], state: dict[str, Any] | None
    ) -> list[Reply]:
        say = self.words.say
        if not self.desk.can_save:
            return [Reply(say(PROFILE, "unavailable"))]
        uid = msg.user_id
        if action == "save":
            rows = [
                [self._button("keep_sub", "keep", "sub")],
                [self._button("keep_only", "keep", "only")],
                [self._button("keep_no", "keep", "no")],
            ]
            return [Reply(say(PROFILE, "consent"), rows)]
        if action == "keep":
            choice = parts[0] if parts else ""
            if choice == "no":
                return [Reply(say(PROFILE, "not_saved"))]
            if choice not in ("sub", "only"):
                return [Reply(say(ASK, "expired"))]
            profile = await self._base_profile(uid, state)
            if profile.is_empty():
                return [Reply(say(ASK, "expired"))]
            await self.desk.save(uid, profile, subscribe=choice == "sub")
            return [Reply(say(PROFILE, "saved", subscribed=choice == "sub"))]
        if action == "del":
            if parts == ["yes"]:
                return [Reply(say(PROFILE, "deleted", found=await self.desk.delete(uid)))]
            return [Reply(say(PROFILE, "confirm_delete"), [[self._button("delete_yes", "del", "yes")]])]
        if action in ("sub", "unsub"):
            found = await self.desk.set_subscribed(uid, action == "sub")
            if action == "sub":
                return [Reply(say(PROFILE, "subscribed") if found else say(PROFILE, "empty"))]
            return [Reply(say(PROFILE, "unsubscribed", found=found))]
        return [Reply(say(ASK, "expired"))]


def _num(v: float) -> float | int:
    return int(v) if float(v).is_integer() else round(v, 2)


__all__ = ["PolicyDialogue", "PolicyIntent"]
