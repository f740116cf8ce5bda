"""Staff and citizen ticket commands, parsed and carried out in the core (console and Telegram alike)."""
