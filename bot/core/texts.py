"""Every text a person reads comes from a template under templates/ (Telegram HTML, autoescaped).

Two shapes: a whole message is a template of its own (`render("tickets/card.html.j2", ticket=…)`); the many
short sentences of one area (command replies, refusals, errors) are macros collected in one template per area
and called by name (`say("tickets/replies.html.j2", "claimed", number=…)`), so a centre can reword any of
them without touching code. Values are escaped by the templates; the result is safe Telegram HTML.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from bot.core.resources import data_dir


def template_env(directory: Path) -> Environment:
    """The one Jinja2 setup every text uses: autoescaped for Telegram HTML, strict about missing values."""
    return Environment(
        loader=FileSystemLoader(str(directory)),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        # templates do not change while the process runs; skip the per-render file check
        auto_reload=False,
    )


def tidy(text: str) -> str:
    # templates are written for readability; collapse the blank lines their blocks leave behind
    return re.sub(r"\n{3,}", "\n\n", text).strip()


class Texts:
    def __init__(self, directory: Path | None = None, env: Environment | None = None):
        self.directory = directory or data_dir("templates")
        self.env = env or template_env(self.directory)
        self._modules: dict[str, Any] = {}

    def render(self, name: str, **ctx: Any) -> str:
        return tidy(self.env.get_template(name).render(**ctx))

    def say(self, name: str, macro: str, /, **kwargs: Any) -> str:
        """One short text: the macro `macro` of the template `name`."""
        module = self._modules.get(name)
        if module is None:
            module = self._modules[name] = self.env.get_template(name).module
        return tidy(str(getattr(module, macro)(**kwargs)))

    def variable(self, name: str, var: str) -> Any:
        """A value a template defines at its top level (`{% set commands = … %}`)."""
        return getattr(self.env.get_template(name).module, var)

    def macros(self, name: str) -> list[str]:
        """The macro names a snippets template defines (for `python -m bot check`)."""
        module = self.env.get_template(name).module
        return sorted(n for n in dir(module) if not n.startswith("_"))
