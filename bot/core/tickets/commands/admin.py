"""Admin commands: /staff (who works on tickets, in which role and departments) and /outbox (notifications
that failed for good wait there until an admin has fixed the cause and sends them again)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot.core.messages import Incoming, Reply
from bot.core.text.markup import html_to_text
from bot.core.tickets.domain.models import ROLE_LABELS, StaffMember
from bot.core.tickets.domain.permissions import department_text

from .registry import REGISTRY

if TYPE_CHECKING:
    from .registry import Context

ROLE_WORDS = {
    "admin": "admin",
    "管理员": "admin",
    "supervisor": "supervisor",
    "负责人": "supervisor",
    "handler": "handler",
    "办理人": "handler",
}


@REGISTRY.command("staff", who="admin", menus=("admin",))
async def staff(c: Context, msg: Incoming, rest: str) -> list[Reply]:
    actor = await c.service.require_admin(msg.user_id)
    parts = rest.split()
    if parts[:1] == ["list"]:
        members = await c.service.list_staff()
        admins = sorted(c.service.admin_ids - {m.user_id for m in members})
        rows = [(m.user_id, m.name, ROLE_LABELS[m.role], department_text(m)) for m in members]
        return [Reply(c.say("staff_list", admins=admins, members=rows))]
    if parts[:1] == ["remove"] and len(parts) == 2:
        found = await c.service.remove_staff(parts[1], actor.user_id)
        return [Reply(c.say("staff_removed", user_id=parts[1], found=found))]
    if parts[:1] == ["add"] and len(parts) >= 3:
        user_id, role = parts[1], ROLE_WORDS.get(parts[2].lower())
        if role is None:
            return [Reply(c.say("bad_role", usage=c.words.usage("staff")))]
        depts: list[str] = []
        for raw in re.split(r"[,，、]", parts[3]) if len(parts) >= 4 else []:
            if not raw:
                continue
            dept = c.service.canonical_department(raw)
            if dept is None:
                return [Reply(c.say("no_such_department", name=raw[:30]))]
            depts.append(dept)
        if role != "admin" and not depts:
            return [Reply(c.say("need_department", usage=c.words.usage("staff")))]
        name = " ".join(parts[4:]) or user_id
        await c.service.add_staff(StaffMember(user_id, name, role, tuple(depts)), actor.user_id)
        return [
            Reply(c.say("staff_added", name=name, user_id=user_id, role=ROLE_LABELS[role], departments=depts))
        ]
    return [c.usage("staff")]


@REGISTRY.command("outbox", who="admin", menus=("admin",))
async def outbox(c: Context, msg: Incoming, rest: str) -> list[Reply]:
    await c.service.require_admin(msg.user_id)
    parts = rest.split()
    if not parts or parts == ["list"]:
        rows = []
        for r in await c.service.store.outbox.parked(20):
            n = r.notification
            rows.append(
                (
                    r.id,
                    c.say("recipient", kind=n.recipient.kind, id=n.recipient.id),
                    r.parked_at.strftime("%m-%d %H:%M") if r.parked_at else "-",
                    (r.last_error or "")[:80],
                    html_to_text(n.reply.html).replace("\n", " ")[:40],
                )
            )
        return [Reply(c.say("parked_list", rows=rows))]
    if parts[0] == "retry" and len(parts) >= 2:
        now = c.service.clock.now()
        if parts[1:] == ["all"]:
            count = await c.service.store.outbox.requeue(None, now)
        else:
            ids = [p.lstrip("#") for p in parts[1:]]
            if not all(i.isascii() and i.isdigit() for i in ids):
                return [c.usage("outbox")]
            count = await c.service.store.outbox.requeue([int(i) for i in ids], now)
        return [Reply(c.say("requeued", n=count) if count else c.say("nothing_to_requeue"))]
    return [c.usage("outbox")]
