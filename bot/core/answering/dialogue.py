"""Dialogue: turn an understood question into replies — answer, clarify, follow up, or offer a 诉求."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace

from bot.core.answering.matcher import Matcher, Understanding
from bot.core.answering.render import ASPECT_LABELS, Renderer
from bot.core.knowledge import KnowledgeBase
from bot.core.messages import Button, Reply
from bot.core.text.normalize import MAX_ANALYSED_CHARS, compact

from .context import Context, ContextStore

# "第二个", "2", "选3", "第三项"
_PICK = re.compile(r"^(?:选|要)?第?([1-9一二三四五六七八九])(?:个|项|条|种)?$")
_CN_DIGITS = {c: i + 1 for i, c in enumerate("一二三四五六七八九")}
# asking for a person or to file an appeal, in so many words
_HANDOFF = re.compile(
    r"^(?:我要|我想|帮我)?(?:转)?(?:人工|人工客服|人工服务|找人工|提交?诉求|提个诉求|登记诉求|留言|反映问题)$"
)
_SPECIFIC_ASPECTS = frozenset({"fee", "time", "materials", "location", "online", "conditions"})
# "那买房提取呢", "还有购房的呢": what about something else?
_WHAT_ABOUT = re.compile(r"^(?:那|那么|还有|另外)?.{2,12}(?:的)?呢$")
# in a conversation, "那X呢" turns to the entry that explains X from this confidence
WHAT_ABOUT_MIN = 0.4
# a remark this short, with no appeal cue, inside a conversation about an entry is about that entry
_REMARK_CHARS = 16
# a reply this short to a list of variants may just say which one ("丢了", "快到期了")
_VARIANT_REPLY_CHARS = 12
# suggestions shown with a no-match answer need at least this confidence to be worth offering
SUGGEST_MIN = 0.25
# with no conversation before it, a message that names nothing of its own is answered with an entry only at
# this confidence ("怎么落户" names the entry by a verb; "那在哪办" names nothing)
SURE_WITHOUT_SUBJECT = 0.9
# inside a conversation, a message switches to another entry at this confidence even when the current topic
# could explain its words
SWITCH_SURE = 0.8
# which local hotlines fit a kind of danger (matched on the hotline's name and `for`)
_HOTLINE_WORDS = {
    "gas": ("燃气",),
    "electric": ("电",),
    "flood_collapse": ("水",),
    "trapped": ("电梯",),
}


@dataclass
class DialogueResult:
    replies: list[Reply] = field(default_factory=list)
    understanding: Understanding | None = None
    # set when the person should be taken into 诉求 intake, with the description to start from
    start_ticket: str | None = None
    # the question we could not answer, when the ticket starts from one
    source_question: str | None = None
    answered: bool = False
    # the ticket to start is urgent (an emergency): the ticket side creates it under the urgent SLA
    urgent: bool = False
    # the person asked how their own 诉求 stand: the assistant shows their tickets (/my) when it can
    show_tickets: bool = False
    # the entries a clarifying question offered ("which one did you mean?"), in the order shown
    clarified: list[str] = field(default_factory=list)
    # the person answered a clarifying question (picked one of its choices): it was no gap
    picked: bool = False


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
    def answer(
        self,
        entry_id: str,
        aspect: str | None,
        *,
        aspects: list[str] | None = None,
        asked_item: str | None = None,
    ) -> Reply:
        entry = self.kb.get(entry_id)
        if entry is None:
            return Reply(self.renderer.render("nomatch.html.j2", suggestions=[]), [self.ticket_button()])
        html = self.renderer.answer(entry, aspect, aspects=aspects, asked_item=asked_item)
        if entry.kind == "faq":
            return Reply(html, [[Button("没解决，提交诉求", "t:new")]])  # a reviewed reply has no aspects
        return Reply(
            html,
            self.aspect_buttons(entry_id, aspect)
            if entry.kind != "exemption"
            else self.exemption_buttons(entry, asked_item),
        )

    def aspect_buttons(self, entry_id: str, current: str | None) -> list[list[Button]]:
        order = ["materials", "conditions", "time", "fee", "location", "online", "process", "overview"]
        btns = [Button(ASPECT_LABELS[a], f"a:{a}:{entry_id}") for a in order if a != (current or "overview")]
        rows = [btns[:4], btns[4:]]
        rows.append([Button("没解决，提交诉求", "t:new")])
        return rows

    def exemption_buttons(self, entry, asked_item: str | None = None) -> list[list[Button]]:  # noqa: ANN001
        # the item the person asked about first, covered or not: its own materials are the next thing to see
        ids = [asked_item] if asked_item and self.kb.get(asked_item) else []
        ids += [i for i in entry.items if i not in ids]
        rows = [
            [Button(f"{item.name} · 材料"[:40], f"a:materials:{i}")]
            for i in ids[:4]
            if (item := self.kb.get(i)) is not None
        ]
        rows.append([Button("没解决，提交诉求", "t:new")])
        return rows

    @staticmethod
    def ticket_button() -> list[Button]:
        return [Button("提交诉求，请工作人员联系我", "t:new")]

    def clarify(self, ids: list[str], aspect: str | None, ctx: Context) -> Reply:
        entries = [self.kb.entry(i) for i in ids]
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
            kind = "emoji" if _emoji_only(text) else ("symbols" if text.strip() else "empty")
            res.replies.append(Reply(self.renderer.render("empty.html.j2", kind=kind)))
            return res
        if _HANDOFF.match(flat):
            res.start_ticket = res.source_question = ctx.unanswered or ""
            return res

        pick = _PICK.match(flat)
        if pick and ctx.choices:
            n = int(pick.group(1)) if pick.group(1).isdigit() else _CN_DIGITS[pick.group(1)]
            if 1 <= n <= len(ctx.choices):
                res.picked = True
                return self._answer(user_id, ctx, ctx.choices[n - 1], ctx.choice_aspect, res, text=text)
        if ctx.choices and len(flat) <= _VARIANT_REPLY_CHARS:
            # "丢了" or "快到期了" after "新办, 补办 or 延续?": the variant the reply asks for
            chosen = self.matcher.pick_variant(ctx.choices, text)
            if chosen is not None:
                res.picked = True
                return self._answer(user_id, ctx, chosen, ctx.choice_aspect, res, text=text)

        u = self.matcher.understand(text)
        res.understanding = u
        replies = res.replies
        if u.urgent:
            # an emergency before anything else: the numbers to call now, then the offer of an urgent 诉求
            res.urgent = True
            ctx.unanswered, ctx.urgent = text, True
            ctx.choices = []
            html = self.renderer.render(
                "emergency.html.j2", kind=u.emergency, hotlines=self._hotlines(u.emergency)
            )
            replies.append(Reply(html, [[Button("登记紧急诉求，请工作人员跟进", "t:urgent")]]))
            self.contexts.put(user_id, ctx)
            return res
        if len(text) > MAX_ANALYSED_CHARS and u.intent != "appeal":
            replies.append(Reply(self.renderer.render("too_long.html.j2", limit=MAX_ANALYSED_CHARS)))
        if u.bare:
            # "2" with no list of choices pending: a number is not a question
            replies.append(Reply(self.renderer.render("not_a_question.html.j2", text=text.strip()[:20])))
            return res
        if u.intent == "smalltalk":
            # small talk keeps the context: "好的谢谢" and then "那多少钱" still follows up on the topic
            name = "help.html.j2" if u.smalltalk == "help" else f"smalltalk/{u.smalltalk}.html.j2"
            replies.append(Reply(self.renderer.render(name)))
            res.answered = True
            return res
        if u.topic == "status":
            res.show_tickets = True
            replies.append(Reply(self.renderer.render("status.html.j2", enabled=False)))
            res.answered = True
            return res
        if u.topic == "centre":
            return self._centre(res)
        if u.intent == "appeal" and not self._story_in_conversation(u, ctx):
            res.start_ticket = text
            return res
        if u.intent == "appeal":
            # "照片自己带还是现场拍" while talking about 结婚登记: a short remark with no appeal cue is a follow-up
            u = res.understanding = replace(u, intent="unknown")

        turned = self._turns_to(u, ctx)
        if turned is not None:
            # "消防那块呢" after 开餐馆一件事: what about the matter its words name?
            flat_q = u.corrected.replace(" ", "")
            aspect = self.matcher.cues.aspect_cue(flat_q) or "overview"
            return self._answer(user_id, ctx, turned, aspect, res)
        if ctx.last_target and self._follows_up(u, ctx):
            # "那在哪办", "多久能拿到", "补卡要钱不": nothing of its own that names another entry
            flat_q = u.corrected.replace(" ", "")
            aspects = self.matcher.cues.aspects_asked(flat_q)
            aspect = self.matcher.cues.aspect_cue(flat_q) or "overview"
            return self._answer(user_id, ctx, self._followed(ctx, flat_q), aspect, res, aspects=aspects)
        if not u.subject and u.target is None:
            # a follow-up with nothing to follow: ask which matter is meant (the centre, for its hours)
            cue = self.matcher.cues.aspect_cue(u.corrected.replace(" ", ""))
            if cue == "location" and self.matcher.cues.topics.about_centre_alone(
                u.corrected.replace(" ", "")
            ):
                u.topic = "centre"
                return self._centre(res)
            if cue and cue != "overview":
                replies.append(Reply(self._render_followup_needed(cue)))
                return res
        if (
            u.target is not None
            and self.matcher.names_nothing(u)
            and not ctx.last_target
            and u.score < SURE_WITHOUT_SUBJECT
        ):
            # "那在哪办" with no conversation before it: a generic phrase is not a question about any entry
            res.understanding = replace(u, intent="unknown", target=None, aspect=None, aspects=[])
            replies.append(
                Reply(
                    self._render_followup_needed(self.matcher.cues.aspect_cue(u.corrected.replace(" ", "")))
                )
            )
            return res
        if u.target is None:
            return self._nomatch(user_id, ctx, u, text, res)
        if u.ambiguous:
            # the variants of one matter, or the close candidates
            ids = u.family or [c.id for c in u.candidates if c.score >= u.score - 0.15][:3]
            if ctx.last_target in ids:
                # the conversation says which of the close ones is meant
                return self._answer(user_id, ctx, ctx.last_target, u.aspect, res, aspects=u.aspects)
            replies.append(self.clarify(ids, u.aspect, ctx))
            res.clarified = ids
            self.contexts.put(user_id, ctx)
            return res
        return self._answer(user_id, ctx, u.target, u.aspect, res, aspects=u.aspects)

    def _follows_up(self, u: Understanding, ctx: Context) -> bool:
        """Whether a message continues the conversation's topic rather than naming another entry: it has no
        subject of its own, or its words are all the base's and none names another entry with confidence."""
        if u.target == ctx.last_target:
            return True
        if not u.subject:
            return True
        if u.intent == "exemption" and u.score >= SWITCH_SURE:
            # "还要开无犯罪记录证明吗" while talking about 教师资格: a 免证明 question, answered as one (it says
            # whether the conversation's item is covered)
            return False
        topic = self.kb.get(ctx.last_target or "")
        if u.target is not None and u.score >= SWITCH_SURE and u.target in getattr(topic, "items", ()):
            # one of the matters of the 一件事 being talked about ("消防检查那块呢" after 开餐馆): that matter
            return False
        if self.matcher.mentions_material(ctx.last_target, u.corrected):
            return True  # "户口本要带吗", "出生证明要原件吗": a material of the topic, not another entry
        if u.foreign:
            # a word the base has never seen is about something else ("红烧肉怎么做"), unless the message asks a
            # specific aspect of the topic ("契税怎么算", "房东要到场吗")
            return self.matcher.cues.aspect_cue(u.corrected.replace(" ", "")) in _SPECIFIC_ASPECTS
        if u.target is not None:
            if u.score >= SWITCH_SURE:
                return False
            # the entry the message names, unless the conversation's topic explains its words better
            # ("一年能取几次" after 公积金租房提取; but "那买房提取呢" names 购房提取)
            by_topic = set(self.matcher.unexplained_by(ctx.last_target, u))
            by_named = set(self.matcher.unexplained_by(u.target, u))
            if by_topic == by_named:
                # both explain the same words: stay on the topic ("几天能拿执照"), unless the message is the
                # way one turns to something else: "那买房提取呢" (what about …?)
                return not _WHAT_ABOUT.match(compact(u.text))
            if by_topic < by_named or by_named < by_topic:
                return by_topic < by_named
            return len(by_topic) < len(by_named)
        # no entry named with confidence, and only words the base knows ("派出所周六开门吗", "审批要多久"):
        # still the topic
        return True

    def _turns_to(self, u: Understanding, ctx: Context) -> str | None:
        """In a conversation, a "what about X?" ("那X呢", "X那块呢") whose words are all explained by one close
        entry other than the topic, where no entry was named with confidence: that entry."""
        if not ctx.last_target or u.target is not None or not u.subject or not u.candidates:
            return None
        if not _WHAT_ABOUT.match(compact(u.text)):
            return None
        best = u.candidates[0]
        if best.id == ctx.last_target or best.score < WHAT_ABOUT_MIN:
            return None
        if self.matcher.unexplained_by(best.id, u):
            return None
        return best.id

    def _story_in_conversation(self, u: Understanding, ctx: Context) -> bool:
        """A message read as a 诉求 only because it tells something without asking (no appeal cue), short, in the
        middle of a conversation about an entry: it is about that entry."""
        cues = self.matcher.cues
        return bool(
            ctx.last_target
            and u.appeal_score < cues.appeal_weak_threshold
            and len(compact(u.text)) <= _REMARK_CHARS
        )

    def _followed(self, ctx: Context, flat: str) -> str:
        """What a follow-up continues: the last answer, or — after a 免证明 answer, when the message does not ask
        about the certificate ("多久能下证", "在派出所办吗") — the item the conversation is about."""
        last = ctx.last_target or ""
        entry = self.kb.get(last)
        if entry is None or entry.kind != "exemption" or not ctx.last_item:
            return last
        if self.matcher.cues.about_certificate(flat):
            return last
        return ctx.last_item

    def _nomatch(
        self, user_id: str, ctx: Context, u: Understanding, text: str, res: DialogueResult
    ) -> DialogueResult:
        ctx.unanswered = text
        ctx.choice_aspect = None
        if u.near:
            # the question is about something the base does not hold ("宠物护照"): say so, and show the near
            # entry only as a button, never as the answer
            near = self.kb.get(u.near)
            ctx.choices = [u.near] if near else []
            rows = [[Button(f"查看：{near.name}"[:40], f"pick:{near.id}:overview")]] if near else []
            rows.append(self.ticket_button())
            html = self.renderer.render(
                "not_in_base.html.j2", subject=u.foreign_words, act=u.near_act, near=near
            )
            res.replies.append(Reply(html, rows))
            self.contexts.put(user_id, ctx)
            return res
        # suggestions only when the question had a subject of its own to be near to
        ctx.choices = [c.id for c in u.candidates[:3] if c.score >= SUGGEST_MIN] if u.subject else []
        suggestions = [self.kb.entry(i) for i in ctx.choices]
        rows = [[Button(e.name[:40], f"pick:{e.id}:overview")] for e in suggestions]
        rows.append(self.ticket_button())
        res.replies.append(Reply(self.renderer.render("nomatch.html.j2", suggestions=suggestions), rows))
        self.contexts.put(user_id, ctx)
        return res

    def _centre(self, res: DialogueResult) -> DialogueResult:
        if res.understanding is not None:
            res.understanding.topic = "centre"
        res.replies.append(Reply(self.renderer.render("centre.html.j2", centre=self.kb.service_centre)))
        res.answered = True
        return res

    def _render_followup_needed(self, aspect: str | None) -> str:
        return self.renderer.render("followup_needed.html.j2", aspect=aspect, centre=self.kb.service_centre)

    def _hotlines(self, kind: str | None) -> list:
        """The local numbers that fit this kind of danger (all of them when none is marked for it)."""
        words = _HOTLINE_WORDS.get(kind or "", ())
        fit = [h for h in self.kb.hotlines.values() if any(w in h.for_ + h.name for w in words)]
        return fit

    def _answer(
        self,
        user_id: str,
        ctx: Context,
        entry_id: str,
        aspect: str | None,
        res: DialogueResult,
        *,
        aspects: list[str] | None = None,
        text: str | None = None,
    ) -> DialogueResult:
        entry = self.kb.get(entry_id)
        kind = "exemption" if entry is not None and entry.kind == "exemption" else "item"
        asked_item = None
        if kind == "exemption" and res.understanding is not None:
            asked_item = self.matcher.named_item(res.understanding, entry_id)
            if asked_item is None and ctx.last_target in getattr(entry, "items", ()):
                asked_item = ctx.last_target  # "需要带离职证明吗" while talking about 失业保险金
        aspects = [a for a in (aspects or []) if a in ASPECT_LABELS] or [aspect or "overview"]
        if aspect and aspect not in aspects:
            aspects = [aspect]
        res.replies.append(self.answer(entry_id, aspect, aspects=aspects, asked_item=asked_item))
        # the understanding after context: what was actually answered
        base = res.understanding or Understanding(text=text or "", normalized="", corrected="", intent=kind)
        res.understanding = replace(
            base,
            intent=kind,
            target=entry_id,
            aspect=None if kind == "exemption" else aspect or "overview",
            aspects=[] if kind == "exemption" else aspects,
            score=base.score if base.target == entry_id else max(base.score, ctx.last_score or 0.0),
        )
        res.answered = True
        if base.target == entry_id:
            ctx.last_score = base.score
        if kind == "exemption":
            # the item asked about stays the conversation's matter, beside the certificate
            ctx.last_item = asked_item or ctx.last_item
        else:
            ctx.last_item = entry_id
        ctx.last_target, ctx.last_aspect = entry_id, aspect
        ctx.choices, ctx.unanswered, ctx.urgent = [], None, False
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
            res.picked = parts[1] in ctx.choices
            return self._answer(user_id, ctx, parts[1], parts[2], res)
        if parts[0] == "t":
            res.start_ticket = res.source_question = ctx.unanswered or ""
            # the emergency's own offer: the ticket is urgent (the ticket side creates it under the urgent SLA)
            res.urgent = parts[1:] == ["urgent"] or ctx.urgent
            return res
        res.replies.append(Reply("这个按钮已过期，请重新提问。"))
        return res
