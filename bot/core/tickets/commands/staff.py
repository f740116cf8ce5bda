"""Staff and citizen ticket commands, parsed and carried out in the core (console and Telegram alike).

`TicketCommands.handle` returns the replies for the chat the command came from, or None when the text or
button is not one of these commands. Notifications for anybody else go through the store's outbox.
"""

from __future__ import annotations

import datetime as dt
import re
from html import escape

from bot.core.messages import Button, Incoming, Recipient, Reply
from bot.core.text.markup import html_to_text
from bot.core.tickets import views
from bot.core.tickets.domain.models import OPEN_STATES, PENDING, ROLE_LABELS, StaffMember, Ticket, TicketQuery
from bot.core.tickets.domain.permissions import (
    PermissionDenied,
    department_text,
)
from bot.core.tickets.intake.flow import is_cancel
from bot.core.tickets.reporting.stats import render_stats
from bot.core.tickets.service import TicketError, TicketService

USAGE = {
    "tickets": "/tickets [mine|overdue|due|new|dept 部门] — 查看诉求列表",
    "ticket": "/ticket 编号 — 查看诉求详情和办理记录",
    "claim": "/claim 编号 — 认领诉求",
    "assign": "/assign 编号 工作人员ID — 指派办理人（负责人）",
    "transfer": "/transfer 编号 部门 理由 — 转派到其他部门",
    "contact": "/contact 编号 联系记录 — 记录已联系诉求人",
    "reply": "/reply 编号 答复内容 — 答复诉求人",
    "note": "/note 编号 内部备注 — 添加内部备注（诉求人看不到）",
    "resolve": "/resolve 编号 办理结果 — 办结并请诉求人评价",
    "reopen": "/reopen 编号 理由 — 重新办理",
    "close": "/close 编号 [说明] — 关闭诉求",
    "stats": "/stats [day|week|month] — 办理统计",
    "outbox": "/outbox — 查看发送失败的通知 | /outbox retry 编号[ 编号…] | /outbox retry all — 排除原因后重新发送",
    "staff": "/staff add 用户ID 角色(admin|supervisor|handler) 部门[,部门] [姓名] | /staff remove 用户ID | /staff list",
}
CITIZEN_COMMANDS = {"my", "ticket"}
# how long after pressing "写几句意见" the next message is taken as the comment
COMMENT_WAIT = dt.timedelta(minutes=30)
_COMMAND = re.compile(r"^/([A-Za-z_]+)(?:@\S+)?(?:\s+(.*))?$", re.S)
_FULL = re.compile(r"^(?:SQ)?(\d{8})-(\d{1,6})$", re.I)
_SHORT = re.compile(r"^#?(\d{1,6})$")
ROLE_WORDS = {
    "admin": "admin",
    "管理员": "admin",
    "supervisor": "supervisor",
    "负责人": "supervisor",
    "handler": "handler",
    "办理人": "handler",
}


def usage(*names: str) -> Reply:
    return Reply("用法：\n" + "\n".join(escape(USAGE[n]) for n in names))


class TicketCommands:
    def __init__(self, service: TicketService):
        self.service = service

    # ------------------------------------------------------------------ entry
    async def handle(self, msg: Incoming) -> list[Reply] | None:
        try:
            if msg.callback:
                return await self._callback(msg)
            m = _COMMAND.match((msg.text or "").strip())
            if not m:
                return None
            name, rest = m.group(1).lower(), (m.group(2) or "").strip()
            handler = getattr(self, f"_cmd_{name}", None)
            if handler is None:
                return None
            return await handler(msg, rest)
        except (PermissionDenied, TicketError) as exc:
            return [Reply(str(exc))]

    # ------------------------------------------------------------------ helpers
    async def _find(self, token: str, user_id: str, member: StaffMember | None) -> Ticket:
        token = token.strip()
        full = _FULL.match(token)
        if full:
            number = f"SQ{full.group(1)}-{int(full.group(2)):04d}"
            ticket = await self.service.get(number)
            if ticket is None:
                raise TicketError(f"没有找到诉求 {number}，请核对编号。")
            return ticket
        short = _SHORT.match(token)
        if not short:
            raise TicketError(
                f"「{escape(token[:30])}」不是诉求编号，编号形如 SQ20261122-0007，也可只写末尾的 7。"
            )
        query = TicketQuery(seq=int(short.group(1)), limit=50)
        if member is None:
            query.citizen_id = user_id
        elif member.role != "admin":
            query.departments = member.departments
        found = await self.service.list(query)
        if len(found) > 1:
            found = [t for t in found if t.state in OPEN_STATES] or found
        if len(found) > 1:
            today = self.service.clock.now().strftime("%Y%m%d")
            found = [t for t in found if t.number[2:10] == today] or found
        if not found:
            raise TicketError(f"没有找到末尾为 {int(short.group(1)):04d} 的诉求，请核对编号。")
        if len(found) > 1:
            listed = "、".join(t.number for t in found[:5])
            raise TicketError(f"末尾为 {int(short.group(1)):04d} 的诉求有多件（{listed}），请写完整编号。")
        return found[0]

    async def _staff_ticket(
        self, msg: Incoming, rest: str, name: str, min_parts: int
    ) -> tuple[StaffMember, Ticket, str]:
        member = await self.service.require_staff(msg.user_id)
        parts = rest.split(None, 1)
        if len(parts) < min_parts:
            raise TicketError(usage(name).html)
        ticket = await self._find(parts[0], msg.user_id, member)
        return member, ticket, parts[1] if len(parts) > 1 else ""

    def _line(self, t: Ticket, names: dict[str, str]) -> str:
        nxt = views.next_deadline(t, self.service.policies)
        who = names.get(t.handler, t.handler) if t.handler else "未认领"
        tail = f"｜{escape(nxt)}" if nxt else ""
        return f"<code>{t.number}</code>｜{escape(t.state)}｜{escape(who)}｜{views.summary(t, 24)}{tail}"

    # ------------------------------------------------------------------ staff: reading
    async def _cmd_tickets(self, msg: Incoming, rest: str) -> list[Reply]:
        member = await self.service.require_staff(msg.user_id)
        now = self.service.clock.now()
        scope = None if member.role == "admin" else member.departments
        words = rest.split(None, 1)
        kind = words[0].lower() if words else ""
        query = TicketQuery(departments=scope, states=OPEN_STATES, limit=20)
        title = "待办诉求"
        if kind == "mine":
            query = TicketQuery(handler=member.user_id, states=OPEN_STATES, limit=20)
            title = "我办理中的诉求"
        elif kind in ("overdue", "due"):
            pol = self.service.policies
            found, counts = await self.service.store.reports.attention(
                now,
                "red" if kind == "overdue" else "yellow",
                warn_at={p.name: p.warn_at for p in pol.policies.values()},
                default_warn=pol.get(pol.default).warn_at,
                departments=scope,
                limit=20,
            )
            title = "已超时的诉求" if kind == "overdue" else "临近时限的诉求（已过预警点）"
            return [await self._listing(title, found, sum(counts.values()))]
        elif kind == "new":
            query.states = (PENDING,)
            title = "待受理的诉求"
        elif kind == "dept":
            if len(words) < 2:
                return [usage("tickets")]
            dept = self.service.canonical_department(words[1])
            if dept is None:
                return [Reply(f"没有找到部门「{escape(words[1][:30])}」，请核对部门名称。")]
            if not member.covers(dept):
                return [Reply(f"抱歉，您只能查看{escape(department_text(member))}的诉求。")]
            query.departments = (dept,)
            title = f"{dept}的待办诉求"
        elif kind:
            return [usage("tickets")]
        total = await self.service.store.tickets.count(query)
        return [await self._listing(title, await self.service.list(query), total)]

    async def _listing(self, title: str, found: list[Ticket], total: int) -> Reply:
        if not found:
            return Reply(f"<b>{escape(title)}</b>：暂无。")
        names = await self.service.staff_names()
        more = "，显示前 20 件" if total > len(found) else ""
        lines = [f"<b>{escape(title)}</b>（共 {total} 件{more}）"]
        lines += [self._line(t, names) for t in found]
        return Reply("\n".join(lines))

    async def _cmd_ticket(self, msg: Incoming, rest: str) -> list[Reply]:
        if not rest:
            return [usage("ticket")]
        member = await self.service.staff_member(msg.user_id)
        ticket = await self._find(rest.split()[0], msg.user_id, member)
        if member is not None and member.covers(ticket.department):
            names = await self.service.staff_names()
            html = views.staff_card(
                ticket,
                names.get(ticket.handler or ""),
                policies=self.service.policies,
                group=msg.is_group,
                full=True,
            )
            events = await self.service.events(ticket)
            html += "\n<b>办理记录</b>\n" + "\n".join(
                views.history_lines(events, names, citizen_id=ticket.citizen_id)
            )
            return [Reply(html)]
        if ticket.citizen_id == msg.user_id:
            return [Reply(views.citizen_card(ticket, self.service.policies))]
        if member is not None:
            raise PermissionDenied(
                f"抱歉，诉求 {ticket.number} 由{escape(ticket.department)}承办，"
                f"您只能查看{escape(department_text(member))}的诉求。"
            )
        raise PermissionDenied("抱歉，您只能查看本人提交的诉求。发送 /my 可查看您的诉求列表。")

    async def _cmd_my(self, msg: Incoming, rest: str) -> list[Reply]:
        tickets = await self.service.citizen_tickets(msg.user_id, limit=20)
        if not tickets:
            return [Reply("您目前没有提交过诉求。如有问题需要反映，直接告诉我即可。")]
        lines = ["<b>您的诉求</b>"]
        for t in tickets:
            nxt = views.next_deadline(t, self.service.policies)
            lines.append(
                f"<code>{t.number}</code>｜{escape(t.state)}｜{views.summary(t, 20)}"
                + (f"｜{escape(nxt)}" if nxt else "")
            )
        lines.append("发送 /ticket 编号 查看详情。")
        return [Reply("\n".join(lines))]

    async def _cmd_stats(self, msg: Incoming, rest: str) -> list[Reply]:
        member = await self.service.require_staff(msg.user_id)
        period = (rest.split() or ["day"])[0].lower()
        if period not in ("day", "week", "month"):
            return [usage("stats")]
        scope = None if member.role == "admin" else member.departments
        return [await render_stats(self.service, period, scope)]

    # ------------------------------------------------------------------ staff: changing
    async def _cmd_claim(self, msg: Incoming, rest: str) -> list[Reply]:
        _, ticket, _ = await self._staff_ticket(msg, rest, "claim", 1)
        t = await self.service.claim(ticket.number, msg.user_id)
        nxt = views.next_deadline(t, self.service.policies) or "时限"
        return [Reply(f"已认领诉求 <b>{t.number}</b>，请在{escape(nxt)}内处理。")]

    async def _cmd_assign(self, msg: Incoming, rest: str) -> list[Reply]:
        _, ticket, who = await self._staff_ticket(msg, rest, "assign", 2)
        t = await self.service.assign(ticket.number, msg.user_id, who.split()[0])
        names = await self.service.staff_names()
        return [
            Reply(
                f"已将诉求 <b>{t.number}</b> 指派给 {escape(names.get(t.handler or '', t.handler or ''))}。"
            )
        ]

    async def _cmd_transfer(self, msg: Incoming, rest: str) -> list[Reply]:
        _, ticket, tail = await self._staff_ticket(msg, rest, "transfer", 2)
        parts = tail.split(None, 1)
        if len(parts) < 2:
            return [Reply("请写明转派理由。\n" + usage("transfer").html)]
        t = await self.service.transfer(ticket.number, msg.user_id, parts[0], parts[1])
        return [Reply(f"已将诉求 <b>{t.number}</b> 转派至{escape(t.department)}。")]

    async def _cmd_contact(self, msg: Incoming, rest: str) -> list[Reply]:
        _, ticket, text = await self._staff_ticket(msg, rest, "contact", 2)
        t = await self.service.record_contact(ticket.number, msg.user_id, text)
        return [Reply(f"已记录与诉求人的联系（{t.number}）。")]

    async def _cmd_reply(self, msg: Incoming, rest: str) -> list[Reply]:
        _, ticket, text = await self._staff_ticket(msg, rest, "reply", 2)
        t = await self.service.reply(ticket.number, msg.user_id, text)
        return [Reply(f"答复已发送给诉求人（{t.number}）。")]

    async def _cmd_note(self, msg: Incoming, rest: str) -> list[Reply]:
        _, ticket, text = await self._staff_ticket(msg, rest, "note", 2)
        t = await self.service.note(ticket.number, msg.user_id, text)
        return [Reply(f"已添加内部备注（{t.number}），诉求人不会看到。")]

    async def _cmd_resolve(self, msg: Incoming, rest: str) -> list[Reply]:
        _, ticket, text = await self._staff_ticket(msg, rest, "resolve", 2)
        t = await self.service.resolve(ticket.number, msg.user_id, text)
        return [Reply(f"诉求 <b>{t.number}</b> 已办结，办理结果已发送给诉求人并请其评价。")]

    async def _cmd_reopen(self, msg: Incoming, rest: str) -> list[Reply]:
        _, ticket, text = await self._staff_ticket(msg, rest, "reopen", 2)
        t = await self.service.reopen(ticket.number, msg.user_id, text)
        due = views.due_text(t, "resolve", self.service.policies)
        return [Reply(f"诉求 <b>{t.number}</b> 已重新办理，新的办结时限：{escape(due)}。")]

    async def _cmd_close(self, msg: Incoming, rest: str) -> list[Reply]:
        _, ticket, text = await self._staff_ticket(msg, rest, "close", 1)
        t = await self.service.close(ticket.number, msg.user_id, text)
        return [Reply(f"诉求 <b>{t.number}</b> 已关闭。")]

    async def _cmd_staff(self, msg: Incoming, rest: str) -> list[Reply]:
        actor = await self.service.require_admin(msg.user_id)
        parts = rest.split()
        now = self.service.clock.now()
        if parts[:1] == ["list"]:
            staff = await self.service.store.staff.list()
            admins = sorted(self.service.admin_ids - {m.user_id for m in staff})
            lines = ["<b>工作人员</b>"]
            lines += [f"<code>{escape(a)}</code>｜管理员（配置）" for a in admins]
            lines += [
                f"<code>{escape(m.user_id)}</code>｜{escape(m.name)}｜{ROLE_LABELS[m.role]}｜{escape(department_text(m))}"
                for m in staff
            ]
            return [Reply("\n".join(lines) if len(lines) > 1 else "还没有登记工作人员。")]
        if parts[:1] == ["remove"] and len(parts) == 2:
            ok = await self.service.store.staff.remove(parts[1], actor.user_id, now)
            return [
                Reply(
                    f"已移除工作人员 {escape(parts[1])}。" if ok else f"没有找到工作人员 {escape(parts[1])}。"
                )
            ]
        if parts[:1] == ["add"] and len(parts) >= 3:
            user_id, role = parts[1], ROLE_WORDS.get(parts[2].lower())
            if role is None:
                return [Reply("角色应为 admin、supervisor 或 handler。\n" + usage("staff").html)]
            depts: list[str] = []
            if len(parts) >= 4:
                for raw in re.split(r"[,，、]", parts[3]):
                    if not raw:
                        continue
                    dept = self.service.canonical_department(raw)
                    if dept is None:
                        return [Reply(f"没有找到部门「{escape(raw[:30])}」，请核对部门名称。")]
                    depts.append(dept)
            if role != "admin" and not depts:
                return [Reply("请为办理人或负责人指定所属部门。\n" + usage("staff").html)]
            name = " ".join(parts[4:]) or user_id
            await self.service.store.staff.upsert(
                StaffMember(user_id, name, role, tuple(depts)), actor.user_id, now
            )
            where = f"，部门：{escape('、'.join(depts))}" if depts else ""
            return [Reply(f"已登记 {escape(name)}（{escape(user_id)}）为{ROLE_LABELS[role]}{where}。")]
        return [usage("staff")]

    async def _cmd_outbox(self, msg: Incoming, rest: str) -> list[Reply]:
        """Notifications that failed permanently (bot blocked, removed from a group, …) wait here until an
        admin has fixed the cause and sends them again."""
        await self.service.require_admin(msg.user_id)
        store = self.service.store
        parts = rest.split()
        if not parts or parts == ["list"]:
            rows = await store.outbox.parked(20)
            if not rows:
                return [Reply("没有发送失败、等待处理的通知。")]
            lines = ["<b>发送失败的通知</b>"]
            for r in rows:
                when = r.parked_at.strftime("%m-%d %H:%M") if r.parked_at else "-"
                preview = html_to_text(r.notification.reply.html).replace("\n", " ")[:40]
                lines.append(
                    f"#{r.id}｜发给{escape(_recipient_text(r.notification.recipient))}｜{when}"
                    f"｜{escape((r.last_error or '')[:80])}\n　{escape(preview)}"
                )
            lines.append(
                "排除原因后（如把机器人重新拉进工作群），发送 /outbox retry 编号 或 /outbox retry all 重新发送。"
            )
            return [Reply("\n".join(lines))]
        if parts[0] == "retry" and len(parts) >= 2:
            now = self.service.clock.now()
            if parts[1:] == ["all"]:
                n = await store.outbox.requeue(None, now)
            else:
                ids = [p.lstrip("#") for p in parts[1:]]
                if not all(i.isdigit() for i in ids):
                    return [usage("outbox")]
                n = await store.outbox.requeue([int(i) for i in ids], now)
            if n == 0:
                return [Reply("没有找到可重新发送的通知，请用 /outbox 核对编号。")]
            return [Reply(f"已将 {n} 条通知重新排队，稍后自动发送。")]
        return [usage("outbox")]

    # ------------------------------------------------------------------ buttons
    async def _callback(self, msg: Incoming) -> list[Reply] | None:
        data = msg.callback or ""
        kind, _, rest = data.partition(":")
        if kind == "claim" and rest:
            t = await self.service.claim(rest, msg.user_id)
            names = await self.service.staff_names()
            who = names.get(msg.user_id, msg.display_name or msg.user_id)
            return [Reply(f"{escape(who)} 已认领诉求 <b>{t.number}</b>。")]
        if kind == "xfer" and rest:
            number, _, idx = rest.partition(":")
            depts = sorted(self.service.department_names())
            if not idx:
                ticket = await self.service.get(number)
                if ticket is None:
                    raise TicketError("没有找到该诉求，请核对编号。")
                await self.service.require_for(msg.user_id, ticket, "transfer")
                rows = [
                    [Button(d, f"xfer:{number}:{i}")]
                    for i, d in enumerate(depts)
                    if d != ticket.department and len(f"xfer:{number}:{i}".encode()) <= 64
                ]
                return [Reply(f"请选择诉求 <b>{escape(number)}</b> 要转派的部门：", rows)]
            if not idx.isdigit() or int(idx) >= len(depts):
                raise TicketError("部门选项已失效，请重新点击“转派”。")
            t = await self.service.transfer(number, msg.user_id, depts[int(idx)], "通过转派按钮转派")
            return [Reply(f"已将诉求 <b>{t.number}</b> 转派至{escape(t.department)}。")]
        if kind == "rate" and rest:
            number, _, score = rest.partition(":")
            if not score.isdigit():
                raise TicketError("评价选项无效，请重新选择。")
            t = await self.service.rate(number, msg.user_id, int(score))
            offer = [[Button("写几句意见", f"cmt:{t.number}")]]
            if t.state in OPEN_STATES:
                return [
                    Reply(
                        "已收到您的评价。很抱歉没能让您满意，您的诉求已重新交办，负责人将跟进处理。"
                        "如方便，请告诉我们哪里做得不好。",
                        offer,
                    )
                ]
            return [
                Reply(f"感谢您的评价（{views.RATING_LABELS[int(score)]}）！如有新的问题，随时告诉我。", offer)
            ]
        if kind == "cmt" and rest:
            ticket = await self.service.get(rest)
            if ticket is None or ticket.citizen_id != msg.user_id or ticket.rating is None:
                raise TicketError("这个按钮已过期，请重新操作。")
            now = self.service.clock.now()
            await self.service.store.state.save(
                _comment_key(msg.user_id), {"number": ticket.number, "at": now.isoformat()}
            )
            return [Reply("请直接输入您的意见，发送“取消”可放弃。")]
        return None

    async def take_comment(self, msg: Incoming) -> list[Reply] | None:
        """The text after the "写几句意见" button is the comment; None when no comment is awaited."""
        key = _comment_key(msg.user_id)
        pending = await self.service.store.state.load(key)
        if pending is None:
            return None
        await self.service.store.state.delete(key)
        try:
            asked = dt.datetime.fromisoformat(pending.get("at", ""))
        except (TypeError, ValueError):
            return None
        if self.service.clock.now() - asked > COMMENT_WAIT:
            return None  # asked long ago: this is a new question, not the comment
        text = (msg.text or "").strip()
        if is_cancel(text):
            return [Reply("好的，不填写意见了。感谢您的评价！")]
        try:
            await self.service.comment(pending["number"], msg.user_id, text)
        except (PermissionDenied, TicketError) as exc:
            return [Reply(str(exc))]
        return [Reply("已收到您的意见，我们会认真改进。感谢您的反馈！")]


def _recipient_text(r: Recipient) -> str:
    if r.kind == "department":
        return f"{r.id}工作群"
    if r.kind == "admins":
        return "管理员"
    return f"{'工作人员' if r.kind == 'staff' else '用户'} {r.id}"


def _comment_key(user_id: str) -> str:
    # kept with the intake drafts: survives a restart, and costs nothing for people without one
    return f"comment:{user_id}"
