"""Canned replies: per-department reply templates that supervisors manage (`/template`) and staff use as
`/reply N #名称`. A template's variables are the citizen's name (masked), the ticket number and its 办结
deadline (暂定 when provisional), written as staff say them ({姓名}, {编号}, {时限}: the words are in
templates/commands/words.html.j2); any other {…} is refused when the template is saved, so a reply never goes
out with a gap.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot.core.tickets.domain.models import StaffMember, Ticket

if TYPE_CHECKING:
    from bot.core.tickets.service import TicketService

WORDS = "commands/words.html.j2"
MAX_NAME = 20
MAX_TEXT = 2000
_VARIABLE = re.compile(r"\{([^{}]*)\}")


def masked_name(name: str | None) -> str | None:
    """张三丰 -> 张**; None when the channel gave no name."""
    name = (name or "").strip()
    return name[0] + "*" * (len(name) - 1) if len(name) > 1 else None


def variables(service: TicketService) -> dict[str, str]:
    """The word staff write inside {…} -> name, number or deadline."""
    return dict(service.texts.variable(WORDS, "template_variables"))


def unknown_variables(service: TicketService, text: str) -> list[str]:
    known = variables(service)
    return [v for v in _VARIABLE.findall(text) if v not in known]


def _departments(service: TicketService, member: StaffMember) -> tuple[str, ...]:
    if member.role not in ("supervisor", "admin"):
        raise service.refusal("supervisor_only", action="template")
    if not member.departments:
        raise service.error("template_needs_department")
    return member.departments


async def save(service: TicketService, member: StaffMember, name: str, text: str) -> tuple[str, ...]:
    """Save (or replace) the template in each of the supervisor's departments."""
    name, text = name.strip().lstrip("#"), text.strip()
    if not name or len(name) > MAX_NAME or not text or len(text) > MAX_TEXT:
        raise service.error("bad_template", limit=MAX_NAME)
    unknown = unknown_variables(service, text)
    if unknown:
        raise service.error("unknown_template_variables", unknown=unknown, known=list(variables(service)))
    departments = _departments(service, member)
    now = service.clock.now()
    for d in departments:
        await service.store.reply_templates.put(d, name, text, member.user_id, now)
    return departments


async def remove(service: TicketService, member: StaffMember, name: str) -> bool:
    found = False
    for d in _departments(service, member):
        found = await service.store.reply_templates.remove(d, name.strip().lstrip("#")) or found
    return found


async def expand(service: TicketService, t: Ticket, text: str, fallback_name: str) -> str:
    """`#名称` (the ticket's department's template) filled in for this ticket; other text as it is."""
    if not text.startswith("#"):
        return text
    name = text[1:].split(None, 1)[0] if text[1:].strip() else ""
    body = await service.store.reply_templates.get(t.department, name)
    if body is None:
        names = [n for n, _ in await service.store.reply_templates.list(t.department)]
        raise service.error(
            "no_such_template", name=name[:MAX_NAME], department=t.department, templates=names
        )
    values = {
        "name": masked_name(t.citizen_name) or fallback_name,
        "number": t.number,
        "deadline": service.views.due_text(t, "resolve"),
    }
    words = variables(service)
    return _VARIABLE.sub(lambda m: values.get(words.get(m.group(1), ""), m.group(0)), body)
