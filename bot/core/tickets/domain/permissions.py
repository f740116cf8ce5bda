"""Who may do what to a ticket.

admin: every department (config admin ids and staff with role admin). supervisor: their departments, including
assigning, closing an unresolved ticket, adding supporting departments, filing a 申诉 and merging duplicates.
handler: their departments, and among those only tickets that are unclaimed or their own. A supporting
department (协办) sees a ticket and adds notes; only the lead department (主办) handles it. Everybody else is a
citizen and only sees and rates their own tickets.

A refusal names the rule that was broken and the facts that explain it; the words are in
templates/tickets/refusals.html.j2 (one macro per rule), and the service puts them together
(`TicketService.require_*`), so what reaches a person is one polite sentence.
"""

from __future__ import annotations

from typing import Any

from bot.core.tickets.domain.models import StaffMember, Ticket

NO_DEPARTMENT = "（未分配部门）"  # a label, shown for a staff member without a department


class PermissionDenied(Exception):
    """Refused. Raised by the rules with the rule's name (a macro of templates/tickets/refusals.html.j2) and the
    facts its sentence needs; raised with a sentence (already worded), str() is that sentence."""

    def __init__(self, reason: str, /, **facts: Any):
        super().__init__(reason)
        self.reason = reason
        self.facts = facts

    @property
    def worded(self) -> bool:
        """True when the message is the sentence itself, not a rule's name still to be put into words."""
        return not self.reason.isidentifier() or not self.reason.isascii()


SUPERVISOR_ONLY = {"assign", "close_open", "cohost", "appeal", "merge"}
# a handler may not act on a ticket a colleague has claimed (claiming it is refused by the service instead)
OWN_TICKET_ONLY = {
    "contact",
    "reply",
    "resolve",
    "transfer",
    "note",
    "close",
    "reopen",
    "priority",
    "type",
    "pause",
    "request",
}
# what a supporting department (协办) may do to a ticket another department leads (主办)
COHOST_ACTIONS = {"note", "view"}


def department_text(member: StaffMember) -> str:
    return "、".join(member.departments) or NO_DEPARTMENT


def check_staff(member: StaffMember | None) -> StaffMember:
    if member is None:
        raise PermissionDenied("staff_only")
    return member


def check_ticket(member: StaffMember, ticket: Ticket, action: str) -> None:
    """May this staff member do `action` to this ticket? Raises PermissionDenied saying why not."""
    if not member.covers(ticket.department):
        supporting = [d for d in ticket.co_departments if member.covers(d)]
        if supporting and action in COHOST_ACTIONS:
            return
        if supporting:
            raise PermissionDenied("lead_only", number=ticket.number, department=ticket.department)
        raise PermissionDenied(
            "other_department",
            number=ticket.number,
            department=ticket.department,
            departments=department_text(member),
        )
    if action in SUPERVISOR_ONLY and member.role == "handler":
        raise PermissionDenied("supervisor_only", action=action)
    if (
        action in OWN_TICKET_ONLY
        and member.role == "handler"
        and ticket.handler is not None
        and ticket.handler != member.user_id
    ):
        raise PermissionDenied("colleague_ticket", number=ticket.number)


def check_admin(member: StaffMember | None) -> StaffMember:
    member = check_staff(member)
    if member.role != "admin":
        raise PermissionDenied("admin_only")
    return member
