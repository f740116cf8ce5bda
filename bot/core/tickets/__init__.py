"""诉求 tickets: storage, lifecycle, SLA on the Chinese working-day calendar, reminders, digests, commands."""

from bot.core.text.mask import mask_id_card, mask_phone, mask_phone_numbers, mask_pii

from .calendar import CalendarError, WorkingCalendar, add_working_days
from .commands import TicketCommands
from .digest import build_digest
from .models import CLOSED, IN_PROGRESS, OPEN_STATES, PENDING, RESOLVED, StaffMember, Ticket, TicketEvent
from .permissions import PermissionDenied
from .reminders import tick
from .service import TicketError, TicketService
from .sla import SlaPolicies, load_policies, policies_from_kb
from .sqlite_store import SqliteTicketStore, StoreOpenError, open_sqlite_store
from .store import ConflictError, TicketStore

__all__ = [
    "CLOSED",
    "IN_PROGRESS",
    "OPEN_STATES",
    "PENDING",
    "RESOLVED",
    "CalendarError",
    "ConflictError",
    "PermissionDenied",
    "SlaPolicies",
    "SqliteTicketStore",
    "StaffMember",
    "StoreOpenError",
    "Ticket",
    "TicketCommands",
    "TicketError",
    "TicketEvent",
    "TicketService",
    "TicketStore",
    "WorkingCalendar",
    "add_working_days",
    "build_digest",
    "load_policies",
    "mask_id_card",
    "mask_phone",
    "mask_phone_numbers",
    "mask_pii",
    "open_sqlite_store",
    "policies_from_kb",
    "tick",
]
