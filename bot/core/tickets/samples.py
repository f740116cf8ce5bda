"""Every ticket text rendered once on sample data, for `python -m bot check`.

`check_texts(texts, policies)` renders, with the strict Jinja2 set-up of bot/core/texts.py (a missing value is
an error, never an empty string), through the same code the service uses: every card (staff, in a group and
in private, cut and whole; citizen), list entry and history; every notification (new, assigned, transferred,
low rating, comment, provisional year, each notice to the citizen); every reminder (yellow, red, repeated);
the daily digest (overall and for one department), the weekly and monthly 通报 and /stats; once with the
deadlines as configured and once with every working-day deadline provisional, so each 暂定 branch is taken.
Then every macro of the snippets templates (SNIPPETS) with sample values for its arguments (and each macro the
code calls, i.e. each one the shipped templates define, must be there with the same arguments), and finally it
reports any template under templates/tickets/ that nothing rendered. It returns how many texts were rendered
and the problems, each naming the template (and line) and what is missing.

Sample data only: nothing here is ever shown to a person.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from bot.core.clock import DEFAULT_TZ, FixedClock
from bot.core.knowledge.gaps import GapGroup
from bot.core.knowledge.loop import FaqDraft, ReloadResult
from bot.core.media import Media
from bot.core.resources import data_dir
from bot.core.routing.samples import sample_decisions, sample_results
from bot.core.storage import RateCounts, SlaCount
from bot.core.storage.protocols import Learned
from bot.core.texts import DATES, Texts
from bot.core.tickets.domain.models import CLOSED, IN_PROGRESS, PENDING, RESOLVED, Ticket, TicketEvent
from bot.core.tickets.domain.permissions import SUPERVISOR_ONLY
from bot.core.tickets.domain.schedule import Alert
from bot.core.tickets.domain.sla import MILESTONES, SlaPolicies
from bot.core.tickets.reporting.digest import (
    AttentionRow,
    DailyDigest,
    Questions,
    Ranking,
    Review,
    daily_text,
    period_window,
    ranking_text,
)
from bot.core.tickets.reporting.figures import DepartmentFigures, Figures
from bot.core.tickets.reporting.stats import PERIODS, stats_text
from bot.core.tickets.views import (
    ERRORS,
    EVENTS,
    LINES,
    NOTICES,
    REFUSALS,
    WORKFLOW,
    TicketViews,
)
from bot.core.tickets.workflow.config import WorkflowConfig

ASSISTANT = "assistant.html.j2"  # bot/core/assistant.py
TELEGRAM = "telegram/messages.html.j2"  # bot/adapters/telegram/app.py
STARTUP = "telegram/startup.txt.j2"  # bot/adapters/telegram/runner.py
CONSOLE = "console.txt.j2"  # bot/adapters/console.py
MEDIA = "tickets/media.html.j2"  # photos, files and pins (bot/core/tickets/files.py, attachments.py)
MEDIA_PLACE = "tickets/media.txt.j2"  # the place a pin gives (bot/core/tickets/intake/evidence.py)
ROUTING = "routing/replies.html.j2"
KNOWLEDGE = "commands/knowledge.html.j2"  # bot/core/tickets/commands/knowledge.py, bot/app.py (reload)
# Templates of short sentences called by name: every macro of each is rendered with SAMPLE_ARGS.
SNIPPETS = [
    LINES,
    NOTICES,
    EVENTS,
    ERRORS,
    REFUSALS,
    DATES,
    ASSISTANT,
    TELEGRAM,
    STARTUP,
    CONSOLE,
    MEDIA,
    MEDIA_PLACE,
    ROUTING,
    KNOWLEDGE,
    WORKFLOW,
]
# Folders and templates every template of which must be rendered by the check.
COVERED = ("tickets", "telegram", "routing", ASSISTANT, CONSOLE, DATES, KNOWLEDGE)


class Alternatives(tuple):
    """Sample values of one argument that are each rendered (every value the code may pass)."""


NOW = dt.datetime(2026, 12, 20, 10, 0, tzinfo=DEFAULT_TZ)
_GAP = GapGroup(
    id=123,
    text="宠物出国要办什么证",
    key="宠物出国证",
    count=5,
    examples=["带狗出国要什么手续"],
    kinds=Counter({"nomatch": 4, "near": 1}),
)
_ENTRY = SimpleNamespace(id="passport", name="普通护照签发")
_LEARNED = Learned(
    kind="alias",
    phrase="宠物出国证",
    question="宠物出国要办什么证",
    source="q:123",
    taught_by="u123",
    taught_by_name="城管小王",
    at=NOW,
    entry_id="passport",
    id=12,
)
_FAQ = Learned(
    kind="faq",
    phrase="老房子加装电梯要谁同意",
    question="老房子加装电梯要谁同意",
    source="诉求 SQ20261220-0007",
    taught_by="u123",
    taught_by_name="城管小王",
    at=NOW,
    answer="需经本单元三分之二以上业主同意。",
    department="住房和城乡建设局",
    expires=NOW + dt.timedelta(days=180),
    id=13,
)
_RELOADED = ReloadResult(
    True, entries=1281, seconds=1.2, skipped=["#9「宠物出国证」：条目 pet-passport 已不在知识库中"]
)
_REFUSED = ReloadResult(
    False, seconds=0.4, problems=["knowledge/items/tax.yaml: YAML 格式错误 第 3 行第 5 列"]
)
_DRAFT = FaqDraft(
    "SQ20261220-0007",
    "老房子加装电梯要谁同意",
    "需经本单元三分之二以上业主同意。",
    "住房和城乡建设局",
    NOW.date(),
)
SAMPLE_ARGS: dict[str, Any] = {
    "number": "SQ20261220-0007",
    "state": IN_PROGRESS,
    "department": "城市管理局",
    "departments": "城市管理局、公安局",
    "from_department": "城市管理局",
    "to_department": "公安局",
    "name": "城管小王",
    "who": "u123",
    "user_id": "u123",
    "handler": Alternatives(("城管小王", None)),
    "text": "已安排人员今天下午清运。",
    "result": "已清运完毕，并加密了清运频次。",
    "can_rate": Alternatives((True, False)),
    "priority": Alternatives(("urgent", "normal")),
    "appeal_type": Alternatives(("投诉", "")),
    "types": ["咨询", "求助", "投诉", "建议", "举报", "表扬"],
    "kind": Alternatives(("return", "reroute", "extend", "appeal", "rectify")),
    "target": Alternatives(("公安局", "5", "")),
    "reasons": ["等待补充材料", "第三方鉴定"],
    "note": Alternatives(("请补充房屋产权证明复印件", "")),
    "hours": 50.5,
    "working_hours": 26.5,
    "solved": Alternatives((True, False)),
    "approved": Alternatives((True, False)),
    "decision": Alternatives(("公安局", "+5", "不属于退单情形", "")),
    "lead": "城市管理局",
    "main": "SQ20261120-0003",
    "unknown": ["地址"],
    "known": ["姓名", "编号", "时限"],
    "templates": Alternatives((["已受理", "已办结"], [])),
    "limit": 60,
    "before": "normal",
    "after": "urgent",
    "reason": Alternatives(("涉及治安问题", "")),
    "summary": "小区门口垃圾好几天没人清运了",
    "next": Alternatives(("办结 1月4日（周一）24:00前", "")),
    "citizen": Alternatives((False, True)),
    "category": "城乡建设",
    "from_category": "城乡建设",
    "to_category": "环境保护",
    "names": "城乡建设、环境保护、其他",
    "policy": "标准时限（2110）",
    "score": 2,
    "label": "不满意",
    "comment": Alternatives(("修了两天又坏了", None)),
    "days": 3,
    "level": Alternatives(("yellow", "red", "supervise")),
    "repeat": Alternatives((0, 2)),
    "years": [2027],
    "due": Alternatives((NOW + dt.timedelta(hours=2), None)),
    "at": NOW,
    "now": Alternatives((NOW, None)),
    "provisional": Alternatives((False, True)),
    "actor": Alternatives(("staff", "system", "citizen")),
    "action": "答复",
    "moves": [
        {"label": "办结", "before": NOW, "after": NOW + dt.timedelta(days=1), "provisional": True},
        {"label": "评价期限", "before": None, "after": NOW, "provisional": False},
    ],
    # _dates.html.j2
    "year": Alternatives((2027, None)),
    "month": 1,
    "day": 4,
    "weekday": 0,
    "clock": "24:00",
    "d": dt.date(2026, 12, 31),
    "first": dt.date(2026, 12, 31),
    "last": Alternatives((dt.date(2027, 1, 3), dt.date(2026, 12, 31))),
    "with_year": Alternatives((True, False)),
    # the adapters' own sentences
    "count": 3,
    "id": "城市管理局",
    "role": Alternatives(("citizen", "staff", "group")),
    "what": "无法连接 Telegram 服务器（api.telegram.org）：连接超时",
    "advice": "请检查本机网络；如需经代理访问，请设置 HTTPS_PROXY。",
    "attempts": Alternatives((1, 6)),
    "base": Alternatives((None, "http://127.0.0.1:8081/bot")),
    "bot_id": "123456789",
    "where": "Telegram 服务器（api.telegram.org）",
    "host": "api.telegram.org",
    "error": "ConnectError",
    "url": "http://user:***@proxy.example:3128",
    "variable": "HTTPS_PROXY",
    "detail": "Bad Gateway",
    "why": Alternatives(("in_use", "denied", "no_address", "other")),
    # photos, files and pins
    "caption": Alternatives(("坑很深，电话 13812345678", "")),
    "counts": Alternatives(({"photo": 3, "video": 1}, {"voice": 1}, {})),
    "kinds": ["photo", "video", "document", "voice"],
    "accepted": ["photo", "video", "document", "voice"],
    "total": 4,
    "max_mb": 20,
    "max_count": 10,
    "place": "幸福小区东门",
    "location": Alternatives((True, False)),
    "voice": Alternatives((False, True)),
    "refused_note": Alternatives(("", "抱歉，音频 1 段暂时无法接收。")),
    "open_tickets": Alternatives((["SQ20261220-0007"], [])),
    "captions": Alternatives((["坑的位置 138****5678"], [])),
    "group": Alternatives((False, True)),
    "files": [
        {"kind": "photo", "role": "citizen", "at": NOW, "now": NOW, "size": 350_000, "caption": "坑很深"},
        {"kind": "voice", "role": "staff", "at": NOW, "now": NOW, "size": None, "caption": ""},
    ],
    "bytes": Alternatives((350_000, 2_500_000)),
    "unit": Alternatives(("南湖街道", None)),
    "title": Alternatives(("幸福小区", None)),
    "address": Alternatives(("人民路100号", None)),
    "lat": 30.0612,
    "lon": 120.0534,
    "path": "~/照片/路灯.jpg",
    # the knowledge loop (commands/knowledge.html.j2)
    "groups": Alternatives(([_GAP], [])),
    "g": Alternatives((_GAP, dataclasses.replace(_GAP, kinds=Counter({"clarify": 5})))),
    "days_back": 7,
    "ref": "123",
    "question": "宠物出国要办什么证",
    "phrase": "宠物出国证",
    "entry": _ENTRY,
    "learned": _LEARNED,
    "learned_id": 12,
    "outcome": Alternatives((_RELOADED, _REFUSED)),
    "rows": Alternatives(([_LEARNED, _FAQ, dataclasses.replace(_LEARNED, undone_at=NOW)], [])),
    "problems": [
        "knowledge/items/tax.yaml: 条目 invoice-apply: 字段 fee.amount: Value error, 收费事项必须写明 amount"
    ],
    "draft": _DRAFT,
}
# the values a macro's argument takes where the code passes one of a fixed set (each must have its words)
# a media kind (photo, video…), where other macros' `kind` is a request kind
MEDIA_KINDS = Alternatives(
    ("photo", "video", "document", "voice", "audio", "animation", "video_note", "other")
)
SAMPLE_ARGS_BY_MACRO: dict[tuple[str, str], dict[str, Any]] = {
    (EVENTS, "attached"): {"kind": MEDIA_KINDS},
    (MEDIA, "kind"): {"kind": MEDIA_KINDS},
    (CONSOLE, "media_line"): {"kind": MEDIA_KINDS},
    (ERRORS, "not_open"): {
        "action": Alternatives(("claim", "assign", "transfer", "contact", "resolve", "priority", "type"))
    },
    (REFUSALS, "supervisor_only"): {"action": Alternatives(sorted(SUPERVISOR_ONLY))},
    (STARTUP, "reason"): {
        "kind": Alternatives(("dns", "refused", "timeout", "tls", "unreachable", "invalid", "other"))
    },
    (CONSOLE, "notification"): {"kind": Alternatives(("user", "department", "staff", "admins"))},
    (CONSOLE, "clock_moved"): {"now": NOW},
    (MEDIA, "refused"): {"reason": Alternatives(("kind", "size", "count"))},
    (MEDIA, "offer_buttons"): {"name": Alternatives(("new", "add", "no"))},
    (MEDIA, "replied"): {"text": Alternatives(("已修复，请看照片。", ""))},
    (MEDIA, "card_location"): {"url": "https://www.openstreetmap.org/?mlat=30.0612&mlon=120.0534"},
    (ROUTING, "route"): {
        "d": Alternatives(sample_decisions()),
        "dispatcher": Alternatives(("派单中心", "")),
    },
    (ROUTING, "queue"): {
        "title": "派单员队列（派单中心）",
        "lines": Alternatives(([("<code>SQ20261220-0007</code>｜路灯不亮", "城市管理局"), ("…", None)], [])),
        "total": 2,
        "shown": 2,
    },
    (ROUTING, "retrained"): {"r": Alternatives(sample_results()), "needed": 40},
    (ROUTING, "queue_title"): {"dispatcher": "派单中心"},
}


@dataclass
class TextsReport:
    rendered: int = 0
    problems: list[str] = field(default_factory=list)


def _where(exc: BaseException, base: Path) -> str:
    """The template and line an error was raised in (Jinja2 puts them in the traceback)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.endswith(".j2")]
    if not frames:
        return ""
    path = Path(frames[-1].filename)
    try:
        name = path.relative_to(base).as_posix()
    except ValueError:
        name = path.name
    return f"{name}:{frames[-1].lineno}: "


class _Run:
    def __init__(self, texts: Texts):
        self.texts = texts
        self.report = TextsReport()
        self._seen: dict[str, tuple[str, int]] = {}
        self.loaded: set[str] = set(texts._modules)  # loaded before, by whoever used these texts
        env = texts.env
        original = env.get_template

        def get_template(name: Any, *args: Any, **kwargs: Any) -> Any:
            self.loaded.add(str(getattr(name, "name", name)))
            return original(name, *args, **kwargs)

        env.get_template = get_template  # type: ignore[method-assign]
        self._restore = lambda: setattr(env, "get_template", original)

    def __call__(self, what: str, render: Callable[[], Any]) -> None:
        try:
            render()
            self.report.rendered += 1
        except Exception as exc:  # report every problem, not just the first
            self.problem(what, exc)

    def problem(self, what: str, exc: BaseException) -> None:
        """One line per distinct problem, naming the first sample that showed it and how many did."""
        key = f"{_where(exc, Path(self.texts.directory))}{type(exc).__name__}: {exc}"
        first, count = self._seen.get(key, (what, 0))
        self._seen[key] = (first, count + 1)

    def finish(self) -> TextsReport:
        for key, (first, count) in self._seen.items():
            also = f"（另有 {count - 1} 处）" if count > 1 else ""
            self.report.problems.append(f"{key}　—— {first}{also}")
        return self.report

    def close(self) -> None:
        self._restore()


class _AllProvisional:
    """The configured policies, with every working-day deadline counted as provisional (暂定)."""

    def __init__(self, policies: SlaPolicies):
        self._policies = policies

    def __getattr__(self, name: str) -> Any:
        return getattr(self._policies, name)

    def provisional_years(self, ticket: Any, milestone: str) -> list[int]:
        due = ticket.rating_due if milestone == "rating" else ticket.due(milestone)
        return [due.year] if due is not None else []

    def is_provisional(self, ticket: Any, milestone: str) -> bool:
        return bool(self.provisional_years(ticket, milestone))


def sample_ticket(**changes: Any) -> Ticket:
    created = NOW
    ticket = Ticket(
        id=7,
        number="SQ20261220-0007",
        seq=7,
        citizen_id="citizen-1",
        description="小区门口垃圾好几天没人清运了，臭死了。联系电话 13812345678。<b>请尽快</b>",
        category="城乡建设",
        department="城市管理局",
        place="人民路1号东门",
        phone="13812345678",
        anonymous=False,
        priority="normal",
        policy="2110",
        state=PENDING,
        handler=None,
        source_question=None,
        created_at=created,
        updated_at=created,
        contact_due=created + dt.timedelta(hours=2),
        contact_met=None,
        feedback_due=dt.datetime(2026, 12, 22, tzinfo=DEFAULT_TZ),
        feedback_met=None,
        resolve_due=dt.datetime(2027, 1, 5, tzinfo=DEFAULT_TZ),
        resolve_met=None,
        round=0,
        round_started_at=created,
        resolution=None,
        closed_at=None,
        rating=None,
        comment=None,
        rated_at=None,
        rated_round=None,
        rating_due=None,
        next_due_at=None,
        version=3,
        appeal_type="投诉",
        tier="general",
        dispatch_due=created + dt.timedelta(hours=24),
    )
    return dataclasses.replace(ticket, **changes)


def sample_tickets() -> dict[str, Ticket]:
    open_ = sample_ticket()
    return {
        "待受理": open_,
        "办理中（紧急、长描述）": sample_ticket(
            state=IN_PROGRESS,
            handler="h-1",
            priority="urgent",
            description="燃气泄漏，" * 300,
            contact_met=NOW + dt.timedelta(minutes=30),
            dispatch_met=NOW + dt.timedelta(minutes=10),
            tier="emergency",
            co_departments=("公安局", "民政局"),
        ),
        "暂停计时、已并单、无类型": sample_ticket(
            state=IN_PROGRESS,
            handler="h-1",
            appeal_type=None,
            paused_at=NOW + dt.timedelta(hours=1),
            pause_reason="等待补充材料",
            merged_into="SQ20261219-0001",
        ),
        "匿名": sample_ticket(anonymous=True, phone=None, place=None),
        "已办结（差评）": sample_ticket(
            state=RESOLVED,
            handler="h-1",
            contact_met=NOW,
            feedback_met=NOW,
            resolve_met=NOW + dt.timedelta(days=2),
            resolution="已清运完毕。",
            rating=2,
            comment="修了两天又坏了",
            rating_due=NOW + dt.timedelta(days=5),
        ),
        "已关闭": sample_ticket(state=CLOSED, closed_at=NOW, resolution="已办结。", rating=5),
    }


def sample_events(ticket: Ticket) -> list[TicketEvent]:
    kinds = [
        ("citizen-1", "create", "城乡建设｜标准时限（2110）"),
        ("h-1", "claim", ""),
        ("h-1", "reply", "您好，已安排人员今天下午清运，电话 13812345678。"),
        ("system", "remind", "办结黄牌预警"),
        ("citizen-1", "rate", "2分（不满意）"),
        ("s-1", "unknown_action", "x"),
    ]
    return [
        TicketEvent(ticket.id, NOW + dt.timedelta(minutes=i), actor, action, text)
        for i, (actor, action, text) in enumerate(kinds * 4)
    ]


def sample_figures() -> Figures:
    departments = [
        DepartmentFigures(
            "城市管理局", 12, 9, SlaCount(30, 36), 40, 10, SlaCount(20, 24), RateCounts(6, 9, 7, 10)
        ),
        DepartmentFigures("公安局", 3, 3, SlaCount(9, 9), 0, 0, SlaCount(6, 6), RateCounts(3, 3, 0, 0)),
        DepartmentFigures("民政局", 0, 0, SlaCount(0, 0), 0, 0),
    ]
    return Figures(
        created=15,
        resolved=12,
        pending=2,
        working=5,
        sla={
            "dispatch": SlaCount(15, 15),
            "contact": SlaCount(14, 15),
            "feedback": SlaCount(13, 15),
            "resolve": SlaCount(0, 0),
        },
        rating_sum=40,
        rating_count=10,
        departments=departments,
    )


def _cards(run: _Run, views: TicketViews, tickets: dict[str, Ticket], tag: str) -> None:
    names = {"h-1": "城管小王"}
    for label, t in tickets.items():
        what = f"{tag}{label}"
        run(f"工作人员卡片（工作群）｜{what}", partial(views.staff_card, t))
        run(
            f"工作人员卡片（私聊）｜{what}",
            partial(views.staff_card, t, "城管小王", group=False, full=True),
        )
        run(f"群众卡片｜{what}", partial(views.citizen_card, t))
        run(f"列表行｜{what}", partial(views.list_line, t, names))
        run(f"列表行（群众）｜{what}", partial(views.list_line, t, citizen=True))
        for m in MILESTONES:
            run(f"时限｜{m}｜{what}", partial(views.due_text, t, m))
        run(f"办理记录｜{what}", partial(views.history, sample_events(t), names, citizen_id=t.citizen_id))
        run(f"新诉求通知｜{what}", partial(views.new_ticket, t))
        run(f"指派通知｜{what}", partial(views.assigned, t, "城管小王"))
        for reason in ("涉及治安问题，电话 13812345678", ""):
            run(f"转派通知｜{what}", partial(views.transferred, t, "公安局", reason))
        for comment in ("修了两天又坏了", None):
            run(f"差评通知｜{what}", partial(views.low_rating, t, 2, comment))
        run(f"评价意见通知｜{what}", partial(views.low_rating_comment, t, "修了两天又坏了"))
        run(f"重新计算时限｜{what}", partial(views.recomputed, t, t, ["resolve_due", "rating_due"]))
        for alert in (
            Alert("contact", "yellow", 0, NOW, t.contact_due),
            Alert("resolve", "red", 0, NOW, t.resolve_due),
            Alert("resolve", "red", 1, NOW + dt.timedelta(hours=30), NOW),
            Alert("resolve", "red", 3, NOW + dt.timedelta(days=3), NOW),
            Alert("resolve", "supervise", 0, NOW + dt.timedelta(days=1), NOW),
        ):
            for provisional in (False, True):
                run(
                    f"提醒｜{alert.level}{alert.repeat}｜{what}",
                    partial(views.reminder, t, alert, provisional),
                )
    sample = tickets["待受理"]
    run(f"{tag}受理通知", lambda: views.to_citizen("claimed", sample, department=sample.department))
    run(f"{tag}转交通知", lambda: views.to_citizen("transferred", sample, department="公安局"))
    run(
        f"{tag}答复通知",
        lambda: views.to_citizen("replied", sample, department=sample.department, text="您好"),
    )
    run(f"{tag}办结通知", lambda: views.to_citizen("resolved", sample, result="已清运完毕。"))
    run(f"{tag}暂定说明", lambda: views.provisional_note([2027, 2028]))
    run(f"{tag}放假安排提醒", lambda: views.provisional_year(2027))


def sample_media() -> list[Media]:
    return [
        Media(
            "photo",
            "f1",
            "u1",
            350_000,
            "坑很深，电话 13812345678",
            "image/jpeg",
            None,
            "citizen-1",
            NOW,
            "g1",
        ),
        Media("photo", "f2", "u2", 320_000, "", "image/jpeg", None, "citizen-1", NOW, "g1"),
        Media("video", "f3", "u3", 5_000_000, "", "video/mp4", None, "citizen-1", NOW, "g1"),
        Media("voice", "f4", "u4", 40_000, "", "audio/ogg", None, "citizen-1", NOW),
    ]


def _media(run: _Run, views: TicketViews, tickets: dict[str, Ticket], tag: str) -> None:
    """Cards with photos and a map pin (with and without a 属地 unit), the new-ticket post carrying them, and
    the 补充材料 notice."""
    files = sample_media()
    pinned = {
        "地图位置": dataclasses.replace(
            tickets["待受理"], latitude=30.0612, longitude=120.0534, unit="南湖街道"
        ),
        "地图位置（无边界数据）": dataclasses.replace(
            tickets["匿名"], latitude=30.5, longitude=121.0, unit=None
        ),
    }
    for label, t in {**tickets, **pinned}.items():
        what = f"{tag}{label}（附件）"
        run(f"工作人员卡片（工作群）｜{what}", partial(views.staff_card, t, attachments=files))
        run(f"群众卡片｜{what}", partial(views.citizen_card, t, files))
        run(f"新诉求通知｜{what}", partial(views.new_ticket, t, files))
        run(f"补充材料通知｜{what}", partial(views.supplement, t, files))


SAMPLE_REQUESTS = {("城市管理局", "return"): (3, 1), ("城市管理局", "extend"): (2, 2)}


def _reports(run: _Run, texts: Texts, policies: SlaPolicies) -> None:
    fig = sample_figures()
    empty = Figures(0, 0, 0, 0, {m: SlaCount(0, 0) for m in MILESTONES}, 0, 0, [])
    rows = [
        AttentionRow("SQ20261218-0003", "城市管理局", "楼道堆物 138****5678", None, True, over_hours=5),
        AttentionRow("SQ20261215-0001", None, "路灯不亮", "城管小王", True, over_days=3, provisional=True),
    ]
    yellow = [AttentionRow("SQ20261219-0002", "公安局", "噪音扰民", "民警小赵", False, provisional=True)]
    asked = Questions([("居民身份证补领", 12)], [("我的手机号 138****5678 为什么查不到", 2)])
    for day in (dt.date(2026, 12, 21), dt.date(2027, 1, 4), dt.date(2026, 12, 23)):
        win = period_window("day", day, DEFAULT_TZ, policies.calendar)
        now = dt.datetime.combine(day, dt.time(8, 30), tzinfo=DEFAULT_TZ)
        run(
            f"日报（全部门）｜{day}",
            partial(
                daily_text,
                texts,
                DailyDigest(None, win, now, fig, rows, 12, yellow, 1, asked, dispatch_queue=(3, 2)),
            ),
        )
        run(
            f"日报（部门）｜{day}",
            partial(
                daily_text, texts, DailyDigest("城市管理局", win, now, empty, questions=Questions([], None))
            ),
        )
    for period in ("week", "month"):
        win = period_window(period, dt.date(2027, 1, 4), DEFAULT_TZ, policies.calendar)
        run(f"通报｜{period}", partial(ranking_text, texts, Ranking(None, win, fig, asked)))
        run(
            f"通报（三率阈值）｜{period}",
            partial(
                ranking_text,
                texts,
                Ranking(
                    None,
                    win,
                    fig,
                    asked,
                    thresholds=WorkflowConfig().rates,
                    reported=rows,
                    requests=SAMPLE_REQUESTS,
                ),
            ),
        )
        run(
            f"通报（知识库复核）｜{period}",
            partial(
                ranking_text,
                texts,
                Ranking(None, win, fig, asked, Review(180, 12, [("居民身份证补领", dt.date(2026, 1, 5))])),
            ),
        )
        run(
            f"通报（复核均在期内）｜{period}",
            partial(ranking_text, texts, Ranking(None, win, fig, asked, Review(180, 0, []))),
        )
        run(f"通报（部门、无数据）｜{period}", partial(ranking_text, texts, Ranking("公安局", win, empty)))
    for period in PERIODS:
        for scope in (None, ("城市管理局", "公安局")):
            run(f"统计｜{period}｜{scope}", partial(stats_text, texts, period, scope, fig, 3))
            run(
                f"统计（无数据）｜{period}｜{scope}",
                partial(stats_text, texts, period, scope, empty, 0),
            )


def _macro_calls(name: str, macro: Any) -> list[dict[str, Any]]:
    """The keyword arguments to render a macro with: each Alternatives value once, the others at their first."""
    own = SAMPLE_ARGS_BY_MACRO.get((name, macro.name), {})
    values = {a: own.get(a, SAMPLE_ARGS.get(a)) for a in macro.arguments}
    missing = [a for a in macro.arguments if a not in own and a not in SAMPLE_ARGS]
    if missing:
        raise KeyError(f"samples.py 中没有参数 {', '.join(missing)} 的示例值")
    first = {a: (v[0] if isinstance(v, Alternatives) else v) for a, v in values.items()}
    calls = [first]
    for a, v in values.items():
        if isinstance(v, Alternatives):
            calls += [{**first, a: alt} for alt in v[1:]]
    return calls


def _snippets(run: _Run, texts: Texts, snippets: list[str]) -> None:
    shipped = Texts(data_dir("templates"))
    for name in snippets:
        try:
            module = texts.module(name)
            macros = texts.macros(name)
        except Exception as exc:
            run.problem(name, exc)
            continue
        # the code calls the shipped macros by name with their arguments: a folder of one's own must keep them
        for macro_name in shipped.macros(name):
            want = getattr(shipped.module(name), macro_name)
            have = getattr(module, macro_name, None)
            if have is None:
                run.report.problems.append(f"{name}：缺少宏 {macro_name}{tuple(want.arguments)}")
            elif tuple(have.arguments) != tuple(want.arguments):
                run.report.problems.append(
                    f"{name}：宏 {macro_name} 的参数应为 {tuple(want.arguments)}，而不是 {tuple(have.arguments)}"
                )
        for macro_name in macros:
            macro = getattr(module, macro_name)
            if not callable(macro) or not hasattr(macro, "arguments"):
                continue
            try:
                calls = _macro_calls(name, macro)
            except KeyError as exc:
                run.report.problems.append(f"{name} / {macro_name}：{exc.args[0]}")  # no sample value
                continue
            for kwargs in calls:
                run(f"{name} / {macro_name}", partial(texts.say, name, macro_name, **kwargs))


def check_texts(
    texts: Texts,
    policies: SlaPolicies,
    *,
    snippets: list[str] | None = None,
    covered: tuple[str, ...] = COVERED,
) -> TextsReport:
    """Render every ticket text on sample data; the count and the problems (see the module docstring)."""
    run = _Run(texts)
    try:
        tickets = sample_tickets()
        clock = FixedClock(NOW)
        for tag, pols in (("", policies), ("暂定｜", _AllProvisional(policies))):
            views = TicketViews(texts, pols, clock)  # type: ignore[arg-type]
            _cards(run, views, tickets, tag)
            _media(run, views, tickets, tag)
        _reports(run, texts, policies)
        _snippets(run, texts, list(itertools.chain(SNIPPETS, snippets or [])))
    finally:
        run.close()
    report = run.finish()
    base = Path(texts.directory)
    for folder in covered:
        paths = [base / folder] if folder.endswith(".j2") else sorted((base / folder).rglob("*.j2"))
        for path in paths:
            name = path.relative_to(base).as_posix()
            if name not in run.loaded:
                report.problems.append(
                    f"{name}：检查没有渲染这个模板（请在 bot/core/tickets/samples.py 中加上）"
                )
    return report
