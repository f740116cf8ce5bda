"""Every text a person reads comes from a template under templates/ (Telegram HTML, autoescaped).

Two shapes: a whole message is a template of its own (`render("tickets/card.html.j2", ticket=…)`); the many
short sentences of one area (command replies, refusals, errors) are macros collected in one template per area
and called by name (`say("tickets/replies.html.j2", "claimed", number=…)`), so a centre can reword any of
them without touching code. Values are escaped by the templates; the result is safe Telegram HTML.

Templates named `*.txt.j2` are plain text (not escaped): texts for a terminal, and the event texts kept in a
ticket's history, which are escaped when they are shown.

Dates and times read the same everywhere through the filters registered here:

    {{ due | deadline(provisional, now) }}   11月24日（周二）24:00前（暂定）: a midnight deadline is 24:00 of the
                                             day before; the year only when it is not `now`'s; None: 未设定
    {{ at | moment(now) }}                   11月24日 14:30 (when something happened)
    {{ at | stamp }}                         2026-11-24 14:30 (history and registration times)
    {{ text | mask }}, {{ phone | mask_phone }}   phone and ID-card numbers masked (bot/core/text/mask.py)
    {{ text | short(40) }}                   one line, cut with … at that many characters

The words of a date (月, 日, 周, 前, 暂定) are macros of templates/_dates.html.j2; the filters decide only which
day and which parts are shown.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from bot.core.resources import data_dir
from bot.core.text.mask import mask_phone, mask_pii

DATES = "_dates.html.j2"


def template_env(directory: Path) -> Environment:
    """The one Jinja2 setup every text uses: autoescaped for Telegram HTML (plain `*.txt.j2` excepted),
    strict about missing values."""
    return Environment(
        loader=FileSystemLoader(str(directory)),
        autoescape=select_autoescape(disabled_extensions=("txt.j2",), default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        # templates do not change while the process runs; skip the per-render file check
        auto_reload=False,
    )


def tidy(text: str) -> str:
    # templates are written for readability; collapse the blank lines their blocks leave behind
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def short(text: str | None, limit: int = 60) -> str:
    """One line of at most `limit` characters, cut with an ellipsis."""
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def stamp(when: dt.datetime) -> str:
    return f"{when:%Y-%m-%d %H:%M}"


class Texts:
    def __init__(self, directory: Path | None = None, env: Environment | None = None):
        self.directory = directory or data_dir("templates")
        self.env = env or template_env(self.directory)
        self._modules: dict[str, Any] = {}
        self._dates: dict[tuple[Any, ...], Markup] = {}
        self.env.filters.update(
            deadline=self.deadline,
            moment=self.moment,
            stamp=stamp,
            mask=mask_pii,
            mask_phone=mask_phone,
            short=short,
        )

    def render(self, name: str, **ctx: Any) -> str:
        return tidy(self.env.get_template(name).render(**ctx))

    def module(self, name: str) -> Any:
        """The template `name` as a module: its macros as attributes (loaded once)."""
        module = self._modules.get(name)
        if module is None:
            module = self._modules[name] = self.env.get_template(name).module
        return module

    def say(self, name: str, macro: str, /, **kwargs: Any) -> str:
        """One short text: the macro `macro` of the template `name`."""
        call = getattr(self.module(name), macro)
        try:
            return tidy(str(call(**kwargs)))
        except Exception:
            # as Template.render does: the traceback then names the template's own lines
            self.env.handle_exception()
            raise  # not reached: handle_exception raises

    def variable(self, name: str, var: str) -> Any:
        """A value a template defines at its top level (`{% set commands = … %}`)."""
        return getattr(self.env.get_template(name).module, var)

    def macros(self, name: str) -> list[str]:
        """The macro names a snippets template defines (for `python -m bot check`)."""
        module = self.env.get_template(name).module
        return sorted(n for n in dir(module) if not n.startswith("_"))

    # -- dates: the one place a deadline or a moment is turned into words ------------------------------
    def _date(self, macro: str, **kwargs: Any) -> Markup:
        # the same few days come back all the time (every working-day deadline is a midnight): words once
        key = (macro, *kwargs.items())
        text = self._dates.get(key)
        if text is None:
            if len(self._dates) >= 4096:
                self._dates.clear()
            text = self._dates[key] = Markup(str(getattr(self.module(DATES), macro)(**kwargs)).strip())
        return text

    def deadline(
        self, when: dt.datetime | None, provisional: bool = False, now: dt.datetime | None = None
    ) -> Markup:
        """A deadline as a person reads it (see the module docstring)."""
        if when is None:
            return self._date("unset")
        if now is not None and when.tzinfo is not None and now.tzinfo is not None:
            when = when.astimezone(now.tzinfo)
        day, clock = when.date(), f"{when:%H:%M}"
        if when.hour == 0 and when.minute == 0:  # 00:00 of a day is 24:00 of the day before
            day, clock = day - dt.timedelta(days=1), "24:00"
        return self._date(
            "deadline",
            year=day.year if now is not None and day.year != now.year else None,
            month=day.month,
            day=day.day,
            weekday=day.weekday(),
            clock=clock,
            provisional=bool(provisional),
        )

    def moment(self, when: dt.datetime | None, now: dt.datetime | None = None) -> Markup:
        """When something happened: the day and the time, the year only when it is not `now`'s."""
        if when is None:
            return self._date("unset")
        if now is not None and when.tzinfo is not None and now.tzinfo is not None:
            when = when.astimezone(now.tzinfo)
        return self._date(
            "moment",
            year=when.year if now is not None and when.year != now.year else None,
            month=when.month,
            day=when.day,
            clock=f"{when:%H:%M}",
        )
