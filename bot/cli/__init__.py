"""The command line (python -m bot …); see bot/cli/main.py."""

from .main import main

__all__ = ["main"]
