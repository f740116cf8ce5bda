"""Telegram-HTML texts about tickets. Every value from a person is escaped; group texts mask personal numbers.

Functions that show deadlines take the SLA policies: they say which deadlines are provisional (暂定).
"""

from __future__ import annotations

import datetime as dt
from html import escape

from bot.core.messages import Button
from bot.core.text.mask import mask_phone, mask_pii
from bot.core.tickets.domain.models import Ticket, TicketEvent
from bot.core.tickets.domain.sla import MILESTONE_LABELS, MILESTONES, SlaPolicies

RATING_LABELS = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
ACTION_LABELS = {
    "create": "登记",
    "claim": "认领",
    "assign": "指派",
    "transfer": "转派",
    "contact": "联系诉求人",
    "reply": "答复",
    "note": "内部备注",
    "resolve": "办结",
    "rate": "评价",
    "comment": "评价意见",
    "reopen": "重新办理",
    "close": "关闭",
    "remind": "提醒",
    "deadline_unset": "时限未设定",  # written by versions before provisional years; kept for their history
    "deadline_recomputed": "时限重新计算",
}
PROVISIONAL = "（暂定）"
_WEEKDAYS = "一二三四五六日"


def fmt_time(t: dt.datetime | None, provisional: bool = False) -> str:
    if t is None:
        return "未设定"
    if t.hour == 0 and t.minute == 0:
        # 00:00 of a day is 24:00 of the day before: say it the way a window would
        day = t - dt.timedelta(days=1)
        text = f"{day.month}月{day.day}日（周{_WEEKDAYS[day.weekday()]}）24:00前"
    else:
        text = f"{t.month}月{t.day}日 {t:%H:%M}"
    return text + PROVISIONAL if provisional else text


def provisional_note(years: list[int] | set[int]) -> str:
    """One line for citizens under deadlines marked 暂定."""
    named = "、".join(str(y) for y in sorted(years))
    return f"带“暂定”的时限按国家放假办法推算，国务院公布{named}年放假安排后将自动更新。"


def pending_provisional_years(ticket: Ticket, policies: SlaPolicies) -> set[int]:
    """Provisional years of the deadlines still to be met (the ones a person is shown)."""
    return {y for m in MILESTONES if ticket.met(m) is None for y in policies.provisional_years(ticket, m)}


def fmt_stamp(t: dt.datetime) -> str:
    return f"{t:%Y-%m-%d %H:%M}"


def short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def summary_text(ticket: Ticket, limit: int = 40) -> str:
    """One masked line about what the ticket is (plain text: templates escape it)."""
    return short(mask_pii(ticket.description), limit)


def summary(ticket: Ticket, limit: int = 40) -> str:
    """One masked, escaped line about what the ticket is."""
    return escape(short(mask_pii(ticket.description), limit))


def due_text(ticket: Ticket, milestone: str, policies: SlaPolicies) -> str:
    return fmt_time(ticket.due(milestone), policies.is_provisional(ticket, milestone))


def deadlines_lines(ticket: Ticket, policies: SlaPolicies) -> list[str]:
    lines = []
    for m in MILESTONES:
        met = ticket.met(m)
        state = f"已于 {fmt_time(met)} 完成" if met else due_text(ticket, m, policies)
        lines.append(f"· {MILESTONE_LABELS[m]}：{state}")
    return lines


def next_deadline(ticket: Ticket, policies: SlaPolicies) -> str:
    if not ticket.is_open:
        return ""
    for m in MILESTONES:
        if ticket.met(m) is None:
            return f"{MILESTONE_LABELS[m]} {due_text(ticket, m, policies)}"
    return ""


def most_urgent(ticket: Ticket) -> str | None:
    """The unmet milestone whose deadline comes first."""
    dues = {m: d for m in MILESTONES if ticket.met(m) is None and (d := ticket.due(m)) is not None}
    return min(dues, key=dues.__getitem__) if dues else None


def staff_card(
    ticket: Ticket,
    handler_name: str | None = None,
    *,
    policies: SlaPolicies,
    group: bool = True,
    full: bool = False,
) -> str:
    """The ticket as staff see it. In groups (group=True) phone and ID numbers are masked."""
    desc = mask_pii(ticket.description) if group else ticket.description
    if group and not full and len(desc) > 800:
        desc = desc[:800] + f"…（共 {len(ticket.description)} 字，全文请发送 /ticket {ticket.number}）"
    lines = [
        f"<b>诉求 {ticket.number}</b>（{escape(ticket.state)}）",
        f"类别：{escape(ticket.category)}　承办：{escape(ticket.department)}",
    ]
    if ticket.priority != "normal":
        lines.append("优先级：<b>紧急</b>")
    lines.append(f"内容：{escape(desc)}")
    if ticket.place:
        lines.append(f"地点：{escape(mask_pii(ticket.place) if group else ticket.place)}")
    if ticket.anonymous:
        lines.append("诉求人：匿名（请勿向他人透露诉求人信息）")
    elif ticket.phone:
        lines.append(f"联系电话：{escape(mask_phone(ticket.phone) if group else ticket.phone)}")
    lines.append(f"办理人：{escape(handler_name or ticket.handler or '未认领')}")
    lines.append(f"登记时间：{fmt_stamp(ticket.created_at)}")
    lines.append("时限：")
    lines.extend(deadlines_lines(ticket, policies))
    if ticket.resolution:
        lines.append(f"办理结果：{escape(mask_pii(ticket.resolution) if group else ticket.resolution)}")
    if ticket.rating:
        lines.append(f"评价：{ticket.rating}分（{RATING_LABELS[ticket.rating]}）")
    return "\n".join(lines)


def citizen_card(ticket: Ticket, policies: SlaPolicies) -> str:
    lines = [
        f"<b>您的诉求 {ticket.number}</b>",
        f"状态：{escape(ticket.state)}",
        f"类别：{escape(ticket.category)}　承办部门：{escape(ticket.department)}",
        f"内容：{escape(short(ticket.description, 200))}",
        f"登记时间：{fmt_stamp(ticket.created_at)}",
    ]
    if ticket.is_open:
        lines.append("办理时限：")
        lines.extend(deadlines_lines(ticket, policies))
        years = pending_provisional_years(ticket, policies)
        if years:
            lines.append(provisional_note(years))
    if ticket.resolution:
        lines.append(f"办理结果：{escape(ticket.resolution)}")
    return "\n".join(lines)


def history_lines(
    events: list[TicketEvent], names: dict[str, str], *, limit: int = 15, citizen_id: str | None = None
) -> list[str]:
    """The ticket's history for staff; the citizen appears as 诉求人, never by their account id."""
    shown = events[-limit:]
    lines = [] if len(events) <= limit else [f"（仅显示最近 {limit} 条，共 {len(events)} 条）"]
    for e in shown:
        if e.actor == "system":
            who = "系统"
        elif citizen_id is not None and e.actor == citizen_id:
            who = "诉求人"
        else:
            who = names.get(e.actor, e.actor)
        label = ACTION_LABELS.get(e.action, e.action)
        text = f"：{escape(short(mask_pii(e.text), 80))}" if e.text else ""
        lines.append(f"· {fmt_stamp(e.at)} {escape(who)} {label}{text}")
    return lines


def new_ticket_buttons(number: str) -> list[list[Button]]:
    return [[Button("认领", f"claim:{number}"), Button("转派", f"xfer:{number}")]]


def rating_buttons(number: str) -> list[list[Button]]:
    return [[Button(f"{n} {RATING_LABELS[n]}", f"rate:{number}:{n}")] for n in (5, 4, 3, 2, 1)]
