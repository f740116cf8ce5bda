"""The ticket domain: plain models and the rules about them (SLA, working-day calendar, reminder schedule,
permissions). No storage, no channel, no I/O."""
