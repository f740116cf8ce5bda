"""Dialogue: turn an understood question into replies — answer, clarify, follow up, or offer a 诉求."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace

from bot.core.answering.matcher import Matcher, Understanding
from bot.core.answering.render import ASPECT_LABELS, Renderer
from bot.core.knowledge import KnowledgeBase
from bot.core.messages import Button, Reply
from bot.core.text.function import subject_chars
from bot.core.text.normalize import MAX_ANALYSED_CHARS, compact

from .context import Context, ContextStore

# "第二个", "2", "选3", "第三项"
_PICK = re.compile(r"^(?:选|要)?第?([1-9一二三四五六七八九])(?:个|项|条|种)?$")
_CN_DIGITS = {c: i + 1 for i, c in enumerate("一二三四五六七八九")}
# asking for a person or to file an appeal, in so many words
_HANDOFF = re.compile(
    r"^(?:我要|我想|帮我)?(?:转)?(?:人工|人工客服|人工服务|找人工|提交?诉求|提个诉求|登记诉求|留言|反映问题)$"
)
# suggestions shown with a no-match answer need at least this confidence to be worth offering
SUGGEST_MIN = 0.25


@dataclass
class DialogueResult:
    replies: list[Reply] = field(default_factory=list)
    understanding: Understanding | None = None
    # set when the person should be taken into 诉求 intake, with the description to start from
    start_ticket: str | None = None
    # the question we could not answer, when the ticket starts from one
    source_question: str | None = None
    answered: bool = False


def _emoji_only(text: str) -> bool:
    t = text.strip()
    return bool(t) and all(
        unicodedata.category(c) in ("So", "Sk", "Mn", "Cf", "Zs") or c in "\ufe0f" for c in t
    )


class Dialogue:
    def __init__(self, kb: KnowledgeBase, matcher: Matcher, renderer: Renderer, contexts: ContextStore):
        self.kb = kb
        self.matcher = matcher
        self.renderer = renderer
        self.contexts = contexts

    # -- replies -----------------------------------------------------------------------------------------
    def answer(self, entry_id: str, aspect: str | None) -> Reply:
        entry = self.kb.get(entry_id)
        if entry is None:
            return Reply(self.renderer.render("nomatch.html.j2", suggestions=[]), [self.ticket_button()])
        html = self.renderer.answer(entry, aspect)
        return Reply(
            html,
            self.aspect_buttons(entry_id, aspect)
            if entry.kind != "exemption"
            else self.exemption_buttons(entry),
        )

    def aspect_buttons(self, entry_id: str, current: str | None) -> list[list[Button]]:
        order = ["materials", "conditions", "time", "fee", "location", "online", "process", "overview"]
        btns = [Button(ASPECT_LABELS[a], f"a:{a}:{entry_id}") for a in order if a != (current or "overview")]
        rows = [btns[:4], btns[4:]]
        rows.append([Button("没解决，提交诉求", "t:new")])
        return rows

    def exemption_buttons(self, entry) -> list[list[Button]]:  # noqa: ANN001
        rows = [
            [Button(f"{self.kb.get(i).name} · 材料", f"a:materials:{i}")]
            for i in entry.items[:4]
            if self.kb.get(i)
        ]
        rows.append([Button("没解决，提交诉求", "t:new")])
        return rows

    @staticmethod
    def ticket_button() -> list[Button]:
        return [Button("提交诉求，请工作人员联系我", "t:new")]

    def clarify(self, ids: list[str], aspect: str | None, ctx: Context) -> Reply:
        entries = [self.kb.get(i) for i in ids]
        ctx.choices, ctx.choice_aspect = ids, aspect
        html = self.renderer.render("clarify.html.j2", choices=entries)
        rows = [
            [Button(f"{n}. {e.name}"[:40], f"pick:{e.id}:{aspect or 'overview'}")]
            for n, e in enumerate(entries, 1)
        ]
        rows.append(self.ticket_button())
        return Reply(html, rows)

    # -- main entry ----------------------------------------------------------------------------------------
    def understand_in_context(self, user_id: str, text: str) -> Understanding:
        """What `text` is understood to ask after the person's context (the contract of `match --jsonl`): the
        same path as a chat message, so the context moves on exactly as it would in a conversation."""
        res = self.respond(user_id, text)
        u = res.understanding
        if u is None:
            u = Understanding(text=text, normalized="", corrected="", intent="unknown")
        if u.text != text:
            u = replace(u, text=text)
        return u

    def respond(self, user_id: str, text: str) -> DialogueResult:
        ctx = self.contexts.get(user_id)
        res = DialogueResult()
        flat = compact(text)
        if not flat:
            kind = "emoji" if _emoji_only(text) else "empty"
            res.replies.append(Reply(self.renderer.render("empty.html.j2", kind=kind)))
            return res
        if _HANDOFF.match(flat):
            res.start_ticket = res.source_question = ctx.unanswered or ""
            return res

        pick = _PICK.match(flat)
        if pick and ctx.choices:
            n = int(pick.group(1)) if pick.group(1).isdigit() else _CN_DIGITS[pick.group(1)]
            if 1 <= n <= len(ctx.choices):
                return self._answer(user_id, ctx, ctx.choices[n - 1], ctx.choice_aspect, res)

        u = self.matcher.understand(text)
        res.understanding = u
        replies = res.replies
        if len(text) > MAX_ANALYSED_CHARS and u.intent != "appeal":
            replies.append(Reply(self.renderer.render("too_long.html.j2", limit=MAX_ANALYSED_CHARS)))

        if u.intent == "smalltalk":
            name = "help.html.j2" if u.smalltalk == "help" else f"smalltalk/{u.smalltalk}.html.j2"
            replies.append(Reply(self.renderer.render(name)))
            res.answered = True
            return res
        if u.intent == "appeal":
            res.start_ticket = text
            return res
        if u.target is None:
            # a follow-up about the item just discussed: "那要多少钱", "在哪办呢"
            aspect = self.matcher.cues.aspect_cue(u.corrected.replace(" ", ""))
            subject = subject_chars(u.content)
            if aspect and aspect != "overview" and len(subject) <= 1:
                if ctx.last_target:
                    return self._answer(user_id, ctx, ctx.last_target, aspect, res)
                replies.append(Reply(self.renderer.render("followup_needed.html.j2", aspect=aspect)))
                return res
            ctx.unanswered = text
            # suggestions only when the question had a subject of its own to be near to
            ctx.choices = (
                [c.id for c in u.candidates[:3] if c.score >= SUGGEST_MIN] if len(subject) >= 2 else []
            )
            ctx.choice_aspect = None
            suggestions = [self.kb.get(i) for i in ctx.choices]
            rows = [[Button(e.name[:40], f"pick:{e.id}:overview")] for e in suggestions]
            rows.append(self.ticket_button())
            replies.append(Reply(self.renderer.render("nomatch.html.j2", suggestions=suggestions), rows))
            self.contexts.put(user_id, ctx)
            return res
        if u.ambiguous:
            ids = [c.id for c in u.candidates if c.score >= u.score - 0.15][:3]
            replies.append(self.clarify(ids, u.aspect, ctx))
            self.contexts.put(user_id, ctx)
            return res
        return self._answer(user_id, ctx, u.target, u.aspect, res)

    def _answer(
        self, user_id: str, ctx: Context, entry_id: str, aspect: str | None, res: DialogueResult
    ) -> DialogueResult:
        res.replies.append(self.answer(entry_id, aspect))
        # the understanding after context: what was actually answered
        entry = self.kb.get(entry_id)
        kind = "exemption" if entry is not None and entry.kind == "exemption" else "item"
        base = res.understanding or Understanding(text="", normalized="", corrected="", intent=kind)
        res.understanding = replace(
            base, intent=kind, target=entry_id, aspect=None if kind == "exemption" else aspect or "overview"
        )
        res.answered = True
        ctx.last_target, ctx.last_aspect = entry_id, aspect
        ctx.choices, ctx.unanswered = [], None
        self.contexts.put(user_id, ctx)
        return res

    def callback(self, user_id: str, data: str) -> DialogueResult:
        """Button presses owned by the dialogue: a:<aspect>:<id>, pick:<id>:<aspect>, t:new."""
        ctx = self.contexts.get(user_id)
        res = DialogueResult()
        parts = data.split(":")
        if parts[0] == "a" and len(parts) == 3 and self.kb.get(parts[2]):
            return self._answer(user_id, ctx, parts[2], parts[1], res)
        if parts[0] == "pick" and len(parts) == 3 and self.kb.get(parts[1]):
            return self._answer(user_id, ctx, parts[1], parts[2], res)
        if parts[0] == "t":
            res.start_ticket = res.source_question = ctx.unanswered or ""
            return res
        res.replies.append(Reply("这个按钮已过期，请重新提问。"))
        return res
