"""Who may do what to a ticket.

admin: every department (config admin ids and staff with role admin). supervisor: their departments, including
assigning, closing an unresolved ticket and reopening. handler: their departments, and among those only tickets
that are unclaimed or their own. Everybody else is a citizen and only sees and rates their own tickets.
"""

from __future__ import annotations

from html import escape

from bot.core.tickets.domain.models import StaffMember, Ticket


class PermissionDenied(Exception):
    """Refused; the message says why, politely, in Chinese."""


SUPERVISOR_ONLY = {"assign": "指派办理人", "close_open": "关闭未办结的诉求"}
OWN_TICKET_ONLY = {"contact", "reply", "resolve"}  # a handler may not act on a colleague's ticket


def department_text(member: StaffMember) -> str:
    return "、".join(member.departments) or "（未分配部门）"


def check_staff(member: StaffMember | None) -> StaffMember:
    if member is None:
        raise PermissionDenied("抱歉，该指令仅供工作人员使用。如需查询您的诉求，请发送 /my。")
    return member


def check_ticket(member: StaffMember, ticket: Ticket, action: str) -> None:
    """May this staff member do `action` to this ticket? Raises PermissionDenied saying why not."""
    if not member.covers(ticket.department):
        raise PermissionDenied(
            f"抱歉，诉求 {ticket.number} 由{escape(ticket.department)}承办，"
            f"您只能处理{escape(department_text(member))}的诉求。"
        )
    if action in SUPERVISOR_ONLY and member.role == "handler":
        raise PermissionDenied(f"抱歉，{SUPERVISOR_ONLY[action]}需要部门负责人或管理员操作。")
    if (
        action in OWN_TICKET_ONLY
        and member.role == "handler"
        and ticket.handler is not None
        and ticket.handler != member.user_id
    ):
        raise PermissionDenied(f"抱歉，诉求 {ticket.number} 已由其他同事认领办理，请联系部门负责人调整。")


def check_admin(member: StaffMember | None) -> StaffMember:
    member = check_staff(member)
    if member.role != "admin":
        raise PermissionDenied("抱歉，人员管理仅限管理员操作。")
    return member
