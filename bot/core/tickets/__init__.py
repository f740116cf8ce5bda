"""诉求 tickets: the domain (models, SLA, calendar, schedule, permissions), the lifecycle service, the intake
dialogue, staff commands, reminders and reporting. Import from the modules themselves."""
