"""诉求 intake: the dialogue that turns a complaint, report or request for help into a ticket.

Steps: description (shown; the person may replace it) → category (classified from the description; confirm or pick
another) → place (optional) → contact phone (optional, validated) → anonymous or not → summary with 提交 / 修改 /
取消 → the ticket is created and the person gets its number and deadlines.

The state lives in the store's drafts table (one draft per person), written after every step, so a restart loses
nothing. A draft untouched for `DRAFT_TTL` is dropped and the person's next message is an ordinary question again.
The person can cancel at every step, with the 取消 button or by typing 取消 / 算了 / 不办了.

Limits (bad input gets a clear answer and the dialogue goes on):
- description: control characters removed; at least `MIN_MEANINGFUL` letters or digits (emoji-only or
  punctuation-only text is asked again); longer than `MAX_DESCRIPTION` characters is kept up to that limit and
  the person is told; HTML is shown as typed (every value is escaped by the templates).
- place: same cleaning, at most `MAX_PLACE` characters.
- phone: mainland mobile or landline (see phone.py); anything else is answered and asked again.

Buttons carry `in:` data of at most 64 bytes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bot.core.clock import Clock
from bot.core.messages import Button, Incoming, Reply
from bot.core.resources import data_dir
from bot.core.texts import template_env
from bot.core.tickets.classify import FALLBACK, classify
from bot.core.tickets.intake.phone import find_phone
from bot.core.tickets.service import TicketError
from bot.core.tickets.views import provisional_note

log = logging.getLogger(__name__)

MAX_DESCRIPTION = 2000
MAX_PLACE = 200
MIN_MEANINGFUL = 2
DRAFT_TTL = dt.timedelta(hours=24)
DRAFT_VERSION = 1
PREFIX = "in:"
MILESTONES = ("contact", "feedback", "resolve")

# typed words (punctuation and spaces ignored) that mean the same as a button
CANCEL_WORDS = {
    "取消",
    "算了",
    "不办了",
    "不用了",
    "退出",
    "不要了",
    "不反映了",
    "不提交了",
    "不登记了",
    "不写了",
    "cancel",
    "/cancel",
}
YES_WORDS = {
    "是这一类",
    "是这个",
    "是这类",
    "就是这个",
    "就是这类",
    "正确",
    "对",
    "是",
    "是的",
    "对的",
    "确认",
    "确定",
    "没错",
    "没问题",
    "好",
    "好的",
    "可以",
    "行",
    "嗯",
    "ok",
    "yes",
}
SKIP_WORDS = {
    "跳过",
    "没有",
    "无",
    "不知道",
    "不清楚",
    "不用",
    "不填",
    "略",
    "skip",
    "不留",
    "不留电话",
    "不方便",
}
SKIP_PREFIXES = ("没有", "不知道", "不清楚", "不用", "不方便", "跳过", "不想", "不留", "不填")
SUBMIT_WORDS = {
    "提交",
    "确认提交",
    "提交吧",
    "提交诉求",
    "可以提交",
    "确认无误",
    "没问题提交",
    "确认",
    "确定",
    "好",
    "好的",
    "可以",
    "是",
    "对",
    "没问题",
}
CHANGE_WORDS = {
    "换一个",
    "换一个类别",
    "换个类别",
    "换类别",
    "换",
    "不对",
    "不是",
    "错了",
    "分错了",
    "不是这个",
    "不是这类",
    "不是这一类",
    "选别的",
    "重新选",
    "其他类别",
}
DESCRIBE_AGAIN_WORDS = {"修改描述", "改描述", "重新描述", "重写", "重新写", "改一下描述"}
EDIT_WORDS = {"修改", "改", "改一下", "要改", "修改一下"}
BACK_WORDS = {"返回", "不改了", "返回摘要", "back"}
ANON_YES = {"匿名", "匿名反映", "要匿名", "是", "是的", "要", "对", "好"}
ANON_NO = {"实名", "实名反映", "不匿名", "不用匿名", "不要匿名", "否", "不", "不是", "不用", "不要"}
EDIT_FIELDS = {"desc": "描述", "cat": "类别", "place": "地点", "phone": "电话", "anon": "匿名"}
_FIELD_WORDS = {
    "desc": {"描述", "问题描述", "内容", "问题"},
    "cat": {"类别", "分类", "类型"},
    "place": {"地点", "地址", "位置"},
    "phone": {"电话", "手机", "联系电话", "号码", "手机号"},
    "anon": {"匿名", "实名", "匿名设置"},
}

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
_WORD_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)
_WEEKDAYS = "一二三四五六日"


def _key(text: str) -> str:
    """Typed text reduced for matching against command words: width, case, punctuation and spaces removed."""
    return _WORD_NOISE.sub("", unicodedata.normalize("NFKC", text)).lower()


def is_cancel(text: str) -> bool:
    """'取消', '算了', '不用了'… typed instead of pressing 取消 (intake, and the comment after a rating)."""
    return _key(text) in CANCEL_WORDS


def _is_skip(key: str) -> bool:
    """'跳过', '没有', '不知道具体地址', '不想留' — a short typed refusal."""
    return key in SKIP_WORDS or (len(key) <= 8 and key.startswith(SKIP_PREFIXES))


def _anonymous_choice(key: str) -> bool | None:
    if "实名" in key or "不匿名" in key or "不用匿名" in key or "不要匿名" in key or key in ANON_NO:
        return False
    if "匿名" in key or key in ANON_YES:
        return True
    return None


def clean_text(text: str) -> str:
    """Remove control and invisible formatting characters, tidy whitespace; keep line breaks."""
    text = _CONTROL.sub("", (text or "").replace("\r\n", "\n").replace("\r", "\n").replace("\t", " "))
    text = re.sub(r"[ \u3000]{2,}", " ", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def meaningful(text: str) -> int:
    """How many letters and digits (any script) the text has; emoji and punctuation do not count."""
    return sum(1 for c in text if unicodedata.category(c)[0] in "LN")


def format_deadline(when: dt.datetime, now: dt.datetime) -> str:
    """'11月24日（周二）24:00' — a midnight deadline is shown as 24:00 of the day before; the year only when it
    is not the current one."""
    when = when.astimezone(now.tzinfo) if now.tzinfo else when
    day, clock = when.date(), when.strftime("%H:%M")
    if when.time() == dt.time(0, 0):
        day, clock = day - dt.timedelta(days=1), "24:00"
    year = f"{day.year}年" if day.year != now.year else ""
    return f"{year}{day.month}月{day.day}日（周{_WEEKDAYS[day.weekday()]}）{clock}"


class IntakeFlow:
    def __init__(self, service: Any, store: Any, kb: Any, clock: Clock, templates_dir: Path | None = None):
        self.service = service
        self.store = store
        self.kb = kb
        self.clock = clock
        self.env = template_env(templates_dir or data_dir("templates") / "intake")
        self._locks: dict[str, asyncio.Lock] = {}

    # ------------------------------------------------------------------ public API
    async def start(
        self, msg: Incoming, description: str, *, source_question: str | None = None
    ) -> list[Reply]:
        """Begin intake for msg.user_id with `description` (the appeal message or the unanswered question).

        `source_question`: the question the assistant could not answer, when intake follows that offer; it is kept
        on the ticket for the knowledge-gap statistics.
        """
        async with self._lock(msg.user_id):
            draft: dict[str, Any] = {
                "v": DRAFT_VERSION,
                "step": "description",
                "description": "",
                "category": None,
                "place": None,
                "phone": None,
                "anonymous": None,
                "source_question": (clean_text(source_question)[:MAX_DESCRIPTION] or None)
                if source_question
                else None,
                "return_to_summary": False,
            }
            notes: list[str] = []
            text = clean_text(description)
            if meaningful(text) < MIN_MEANINGFUL:
                return await self._save_and_show(msg.user_id, draft, notes, intro=True)
            draft["description"] = self._take_description(text, notes)
            self._classify_into(draft)
            return await self._save_and_show(msg.user_id, draft, notes, intro=True)

    async def active(self, user_id: str) -> bool:
        return await self._load(user_id) is not None

    async def handle(self, msg: Incoming) -> list[Reply]:
        async with self._lock(msg.user_id):
            draft = await self._load(msg.user_id)
            if draft is None:
                return [self._reply("expired.html.j2")]
            if msg.callback is not None:
                data = msg.callback
                action = data[len(PREFIX) :] if data.startswith(PREFIX) else ""
                if action == "x":
                    return await self._cancel(msg.user_id)
                return await self._on_button(msg, draft, action)
            text = clean_text(msg.text)
            if is_cancel(text):
                return await self._cancel(msg.user_id)
            return await self._on_text(msg, draft, text)

    # ------------------------------------------------------------------ steps: buttons
    async def _on_button(self, msg: Incoming, draft: dict[str, Any], action: str) -> list[Reply]:
        step = draft["step"]
        uid = msg.user_id
        notes: list[str] = []
        if action == "desc" and step in ("category", "category_pick"):
            return await self._goto(uid, draft, "description", notes)
        if step in ("category", "category_pick"):
            if action == "ok" and step == "category" and draft.get("category"):
                return await self._after_category(uid, draft)
            if action == "cats":
                return await self._goto(uid, draft, "category_pick", notes)
            name = self._category_from_action(action)
            if name is not None:
                draft["category"] = name
                return await self._after_category(uid, draft)
        elif step == "place" and action == "skip":
            draft["place"] = None
            return await self._after_field(uid, draft, "phone")
        elif step == "phone" and action == "nophone":
            draft["phone"] = None
            return await self._after_field(uid, draft, "anonymous")
        elif step == "anonymous" and action in ("anon:1", "anon:0"):
            draft["anonymous"] = action == "anon:1"
            return await self._goto(uid, draft, "summary", notes)
        elif step == "summary":
            if action == "submit":
                return await self._submit(msg, draft)
            if action == "edit":
                return await self._goto(uid, draft, "edit", notes)
        elif step == "edit":
            if action == "back":
                return await self._goto(uid, draft, "summary", notes)
            if action.startswith("e:") and action[2:] in EDIT_FIELDS:
                return await self._edit_field(uid, draft, action[2:])
        # a button from an earlier message, or one that does not belong to this step
        notes.append("这个按钮已经失效了，请按下面的提示继续。")
        return await self._save_and_show(uid, draft, notes)

    # ------------------------------------------------------------------ steps: typed text
    async def _on_text(self, msg: Incoming, draft: dict[str, Any], text: str) -> list[Reply]:
        step = draft["step"]
        uid = msg.user_id
        key = _key(text)
        notes: list[str] = []

        if step == "description":
            if meaningful(text) < MIN_MEANINGFUL:
                notes.append(
                    "没有看到文字内容。请用文字简单说说遇到了什么问题，比如发生了什么、在哪里、持续多久。"
                    if text
                    else "您发来的内容是空的。请用文字简单说说遇到了什么问题。"
                )
                return await self._save_and_show(uid, draft, notes)
            draft["description"] = self._take_description(text, notes)
            if draft.get("return_to_summary"):
                notes.append(f"问题描述已更新。类别仍为“{draft['category']}”，如需调整请点“修改”。")
                return await self._goto(uid, draft, "summary", notes)
            self._classify_into(draft)
            return await self._save_and_show(uid, draft, notes)

        if step in ("category", "category_pick"):
            if step == "category" and key in YES_WORDS and draft.get("category"):
                return await self._after_category(uid, draft)
            if step == "category" and key in CHANGE_WORDS:
                return await self._goto(uid, draft, "category_pick", notes)
            if key in DESCRIBE_AGAIN_WORDS and not draft.get("return_to_summary"):
                return await self._goto(uid, draft, "description", notes)
            name = self._category_from_text(text)
            if name is not None:
                draft["category"] = name
                return await self._after_category(uid, draft)
            if meaningful(text) >= 6 and not draft.get("return_to_summary") and find_phone(text) is None:
                # the person goes on describing the problem: add it to the description and classify again
                combined = f"{draft['description']}\n{text}"
                draft["description"] = self._take_description(combined, notes)
                notes.append("已把这段话补充到问题描述里。")
                self._classify_into(draft)
                return await self._save_and_show(uid, draft, notes)
            notes.append("请点下面的按钮选择类别，或直接回复类别名称（例如“环境保护”）。")
            return await self._save_and_show(uid, draft, notes)

        if step == "place":
            if _is_skip(key):
                draft["place"] = None
                return await self._after_field(uid, draft, "phone")
            if meaningful(text) < MIN_MEANINGFUL:
                notes.append(
                    "没有看到地点的文字。请用文字写下地址，例如“人民路100号小区东门”；不方便提供可以点“跳过”。"
                )
                return await self._save_and_show(uid, draft, notes)
            if len(text) > MAX_PLACE:
                notes.append(f"地点描述较长，已保留前 {MAX_PLACE} 个字。")
                text = text[:MAX_PLACE]
            draft["place"] = text
            return await self._after_field(uid, draft, "phone", notes)

        if step == "phone":
            if _is_skip(key):
                draft["phone"] = None
                return await self._after_field(uid, draft, "anonymous")
            phone = find_phone(text)
            if phone is None:
                draft["phone_error"] = text[:30] + ("…" if len(text) > 30 else "")
                return await self._save_and_show(uid, draft, notes)
            draft["phone"] = phone
            return await self._after_field(uid, draft, "anonymous")

        if step == "anonymous":
            choice = _anonymous_choice(key)
            if choice is None:
                notes.append("请点“实名反映”或“匿名反映”，也可以直接回复“实名”或“匿名”。")
                return await self._save_and_show(uid, draft, notes)
            draft["anonymous"] = choice
            return await self._goto(uid, draft, "summary", notes)

        if step == "summary":
            if key in SUBMIT_WORDS:
                return await self._submit(msg, draft)
            if key in EDIT_WORDS:
                return await self._goto(uid, draft, "edit", notes)
            field = self._field_from_text(key)
            if field is not None:
                return await self._edit_field(uid, draft, field)
            notes.append("请确认下面的内容：没问题请点“提交”，需要改动请点“修改”，不办了请点“取消”。")
            return await self._save_and_show(uid, draft, notes)

        if step == "edit":
            if key in BACK_WORDS:
                return await self._goto(uid, draft, "summary", notes)
            field = self._field_from_text(key)
            if field is not None:
                return await self._edit_field(uid, draft, field)
            notes.append("请选择要修改的项目：描述、类别、地点、电话或匿名设置。")
            return await self._save_and_show(uid, draft, notes)

        # unknown step (a draft from another version): start the questions again from the top
        log.warning("intake draft of %s had unknown step %r; asking again", uid, step)
        fallback = "category" if draft.get("category") else "category_pick"
        return await self._goto(uid, draft, fallback if draft.get("description") else "description", notes)

    # ------------------------------------------------------------------ transitions
    async def _after_category(self, uid: str, draft: dict[str, Any]) -> list[Reply]:
        return await self._after_field(uid, draft, "place")

    async def _after_field(
        self, uid: str, draft: dict[str, Any], next_step: str, notes: list[str] | None = None
    ) -> list[Reply]:
        draft.pop("phone_error", None)
        step = "summary" if draft.get("return_to_summary") else next_step
        return await self._goto(uid, draft, step, notes or [])

    async def _edit_field(self, uid: str, draft: dict[str, Any], field: str) -> list[Reply]:
        draft["return_to_summary"] = True
        step = {
            "desc": "description",
            "cat": "category_pick",
            "place": "place",
            "phone": "phone",
            "anon": "anonymous",
        }
        return await self._goto(uid, draft, step[field], [])

    async def _goto(self, uid: str, draft: dict[str, Any], step: str, notes: list[str]) -> list[Reply]:
        draft["step"] = step
        if step != "phone":
            draft.pop("phone_error", None)
        return await self._save_and_show(uid, draft, notes)

    async def _cancel(self, uid: str) -> list[Reply]:
        await self.store.state.delete(uid)
        return [self._reply("cancelled.html.j2")]

    async def _submit(self, msg: Incoming, draft: dict[str, Any]) -> list[Reply]:
        uid = msg.user_id
        try:
            ticket = await self.service.create(
                citizen_id=uid,
                description=draft["description"],
                category=draft["category"],
                place=draft.get("place"),
                phone=draft.get("phone"),
                anonymous=bool(draft.get("anonymous")),
                source_question=draft.get("source_question"),
                priority=self.service.policies.priority_of(draft["description"]),
            )
        except Exception as exc:  # noqa: BLE001 - the person must get an answer and keep their draft
            polite = str(exc) if isinstance(exc, TicketError) else ""
            if not polite:
                log.exception("creating a ticket for %s failed", uid)
            draft["step"] = "summary"
            await self._save(uid, draft)
            return [
                self._reply(
                    "submit_failed.html.j2",
                    buttons=self._buttons("summary", draft),
                    reason=polite,
                )
            ]
        try:
            await self.store.state.delete(uid)
        except Exception:  # noqa: BLE001 - the ticket exists; the person must hear its number
            log.exception(
                "ticket %s created but the intake draft of %s could not be deleted", ticket.number, uid
            )
        deadlines, note = self._deadline_lines(ticket)
        return [
            self._reply(
                "submitted.html.j2",
                number=ticket.number,
                department=getattr(ticket, "department", None) or self._department(draft["category"]),
                deadlines=deadlines,
                provisional_note=note,
                anonymous=bool(draft.get("anonymous")),
            )
        ]

    # ------------------------------------------------------------------ rendering
    async def _save_and_show(
        self, uid: str, draft: dict[str, Any], notes: list[str], *, intro: bool = False
    ) -> list[Reply]:
        await self._save(uid, draft)
        return [self._render_step(draft, notes, intro)]

    def _render_step(self, draft: dict[str, Any], notes: list[str], intro: bool = False) -> Reply:
        step = draft["step"]
        category = draft.get("category")
        ctx: dict[str, Any] = {
            "notes": notes,
            "intro": intro,
            "draft": draft,
            "editing": bool(draft.get("return_to_summary")),
            "category": category,
            "department": self._department(category) if category else "",
            "max_description": MAX_DESCRIPTION,
            "max_place": MAX_PLACE,
            "urgent": step == "summary"
            and self.service.policies.priority_of(draft.get("description", "")) == "urgent",
        }
        if step == "phone":
            ctx["phone_error"] = draft.get("phone_error")
        template = {
            "description": "description.html.j2",
            "category": "category.html.j2",
            "category_pick": "category_pick.html.j2",
            "place": "place.html.j2",
            "phone": "phone.html.j2",
            "anonymous": "anonymous.html.j2",
            "summary": "summary.html.j2",
            "edit": "edit.html.j2",
        }[step]
        return self._reply(template, buttons=self._buttons(step, draft), **ctx)

    def _buttons(self, step: str, draft: dict[str, Any]) -> list[list[Button]]:
        cancel = Button("取消", "in:x")
        if step == "description":
            return [[cancel]]
        if step == "category":
            rows = [[Button("✅ 是这一类", "in:ok"), Button("换一个类别", "in:cats")]]
            others = [n for n in draft.get("alternatives", []) if n != draft.get("category")][:2]
            if others:
                rows.append([self._category_button(n, f"改为“{n}”") for n in others])
            rows.append([Button("✏️ 修改描述", "in:desc"), cancel])
            return rows
        if step == "category_pick":
            names = self._category_names()
            rows = [[self._category_button(n) for n in names[i : i + 2]] for i in range(0, len(names), 2)]
            last = [cancel] if draft.get("return_to_summary") else [Button("✏️ 修改描述", "in:desc"), cancel]
            rows.append(last)
            return rows
        if step == "place":
            return [[Button("跳过", "in:skip"), cancel]]
        if step == "phone":
            return [[Button("不留电话", "in:nophone"), cancel]]
        if step == "anonymous":
            return [[Button("实名反映", "in:anon:0"), Button("匿名反映", "in:anon:1")], [cancel]]
        if step == "summary":
            return [[Button("✅ 提交", "in:submit"), Button("修改", "in:edit"), cancel]]
        if step == "edit":
            fields = [Button(label, f"in:e:{k}") for k, label in EDIT_FIELDS.items()]
            return [fields[:3], fields[3:], [Button("返回摘要", "in:back"), cancel]]
        return [[cancel]]

    def _category_button(self, name: str, label: str | None = None) -> Button:
        data = f"in:c:{name}"
        if len(data.encode("utf-8")) > 64:
            data = f"in:ci:{self._category_names().index(name)}"
        return Button(label or name, data)

    def _reply(self, template: str, buttons: list[list[Button]] | None = None, **ctx: Any) -> Reply:
        ctx.setdefault("notes", [])
        html = self.env.get_template(template).render(**ctx)
        html = re.sub(r"\n{3,}", "\n\n", html).strip()
        return Reply(html, buttons or [])

    def _deadline_lines(self, ticket: Any) -> tuple[list[dict[str, Any]], str]:
        """Each deadline as the citizen reads it, and the line explaining 暂定 when one is provisional."""
        policies = self.service.policies
        now = self.clock.now()
        lines, years = [], set()
        for m in MILESTONES:
            provisional = policies.provisional_years(ticket, m)
            years.update(provisional)
            lines.append(
                {
                    "milestone": m,
                    "window": self._window(ticket, m),
                    "when": format_deadline(ticket.due(m), now),
                    "provisional": bool(provisional),
                }
            )
        return lines, provisional_note(years) if years else ""

    def _window(self, ticket: Any, milestone: str) -> str | None:
        """'2小时', '1个工作日' — from the ticket's SLA policy when the service exposes its policies."""
        policies = getattr(self.service, "policies", None)
        name = getattr(ticket, "policy", None)
        if policies is None or not name or not hasattr(policies, "get"):
            return None
        try:
            return policies.get(name).windows[milestone].describe()
        except (AttributeError, KeyError, TypeError):
            return None

    # ------------------------------------------------------------------ data helpers
    def _take_description(self, text: str, notes: list[str]) -> str:
        if len(text) > MAX_DESCRIPTION:
            notes.append(
                f"您的描述较长（{len(text)} 字），已保留前 {MAX_DESCRIPTION} 字。"
                "如果重要内容在后面，可以点“修改描述”，精简后重新发送。"
            )
            text = text[:MAX_DESCRIPTION].rstrip()
        return text

    def _classify_into(self, draft: dict[str, Any]) -> None:
        ranked = classify(draft["description"], self.kb)
        names = self._category_names()
        ranked = [(n, s) for n, s in ranked if n in names]
        if not ranked or ranked[0][1] <= 0:
            draft["category"] = None
            draft["alternatives"] = []
            draft["step"] = "category_pick"
            return
        best, best_score = ranked[0]
        draft["category"] = best
        draft["alternatives"] = [n for n, s in ranked[1:3] if s >= 0.15 and s >= best_score * 0.4]
        draft["step"] = "category"

    def _category_names(self) -> list[str]:
        names = list(getattr(self.kb, "appeal_categories", {}) or {})
        return names or [FALLBACK]

    def _department(self, category: str | None) -> str:
        cat = (getattr(self.kb, "appeal_categories", {}) or {}).get(category) if category else None
        return cat.department if cat is not None else ""

    def _category_from_action(self, action: str) -> str | None:
        names = self._category_names()
        if action.startswith("c:") and action[2:] in names:
            return action[2:]
        if action.startswith("ci:") and action[3:].isdigit() and int(action[3:]) < len(names):
            return names[int(action[3:])]
        return None

    def _category_from_text(self, text: str) -> str | None:
        key = _key(text)
        names = self._category_names()
        for n in names:
            if key in (_key(n), _key(n) + "类"):
                return n
        # "环保" / "交通" / "劳动社保": a typed fragment that fits exactly one category name
        if 2 <= len(key) <= 8:
            hits = [n for n in names if _chars_in_order(key, _key(n))]
            if len(hits) == 1:
                return hits[0]
        return None

    @staticmethod
    def _field_from_text(key: str) -> str | None:
        for field, words in _FIELD_WORDS.items():
            if key in words or key in {f"修改{w}" for w in words} or key in {f"改{w}" for w in words}:
                return field
        return None

    # ------------------------------------------------------------------ storage
    def _lock(self, uid: str) -> asyncio.Lock:
        lock = self._locks.get(uid)
        if lock is None:
            if len(self._locks) > 10_000:
                self._locks = {k: v for k, v in self._locks.items() if v.locked()}
            lock = self._locks[uid] = asyncio.Lock()
        return lock

    async def _load(self, uid: str) -> dict[str, Any] | None:
        draft = await self.store.state.load(uid)
        if not draft or draft.get("v") != DRAFT_VERSION:
            return None
        try:
            updated = dt.datetime.fromisoformat(draft.get("updated", ""))
        except (TypeError, ValueError):
            updated = None
        if updated is None or self.clock.now() - updated > DRAFT_TTL:
            await self.store.state.delete(uid)
            return None
        return draft

    async def _save(self, uid: str, draft: dict[str, Any]) -> None:
        draft["updated"] = self.clock.now().isoformat()
        await self.store.state.save(uid, draft)


def _chars_in_order(needle: str, hay: str) -> bool:
    it: Iterable[str] = iter(hay)
    return all(ch in it for ch in needle)
