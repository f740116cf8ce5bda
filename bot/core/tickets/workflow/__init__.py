"""The 接诉即办 loop beyond the basic lifecycle: priority and type (triage), signing for a ticket, requests
that a dispatcher reviews (退单, 改派, 延期, 申诉), SLA pauses, merged duplicates, lead and supporting
departments, automatic assignment and canned replies. Each module holds one part and works through the
TicketService (every change with its event in one transaction)."""
