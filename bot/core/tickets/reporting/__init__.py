"""Reporting over the tickets: the daily digest, weekly and monthly 通报, and /stats."""
