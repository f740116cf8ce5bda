"""Jinja2 rendering of answers. Autoescape is on for every template: values (including anything a user typed)
are escaped for Telegram HTML, and only the tags written in the templates themselves are markup."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.core.knowledge import Bundle, Entry, Item, KnowledgeBase
from bot.core.resources import data_dir
from bot.core.texts import template_env, tidy

ASPECT_LABELS = {
    "overview": "概况",
    "materials": "材料",
    "conditions": "条件",
    "time": "时限",
    "fee": "费用",
    "location": "地点",
    "online": "网办",
    "process": "流程",
}


def working_days(n: int | None, unit: str = "工作日") -> str:
    if n is None:
        return "未规定"
    if n == 0:
        return "即办（当场办结）"
    return f"{n}个工作日" if unit == "工作日" else f"{n}日"


@dataclass(frozen=True)
class Contact:
    """Where to ask about an entry when its guide lacks a fact: the item's own phone and place, else its
    department's, else the service centre's; the hotline when nothing else is known."""

    name: str
    phone: str = ""
    place: str = ""
    hours: str = ""
    hotline: str = "12345"
    guide_url: str = ""  # the full guide online, for an imported item that links it


def contact_of(kb: KnowledgeBase, entry: Entry) -> Contact:
    hotline = str(kb.meta.get("hotline") or "12345")
    dept = kb.department(entry.department)
    locations = getattr(entry, "locations", None) or []
    first = locations[0] if locations else None
    phone = getattr(entry, "phone", "") or next((loc.phone for loc in locations if loc.phone), "")
    place = (first.address or first.name) if first else ""
    hours = first.hours if first else ""
    if dept is not None:
        phone = phone or dept.phone
        place = place or dept.window or dept.address
        hours = hours or dept.hours
    guide = getattr(entry, "guide_url", "")
    if not phone and not place and kb.service_centre is not None:
        c = kb.service_centre
        return Contact(c.name, c.phone, c.address, c.hours[0], hotline, guide)
    return Contact(dept.name if dept else entry.department, phone, place, hours, hotline, guide)


class Renderer:
    def __init__(self, kb: KnowledgeBase, templates_dir: Path | None = None):
        self.kb = kb
        self.templates_dir = templates_dir or data_dir("templates")
        self.env = template_env(self.templates_dir)
        # (entry id, aspect, several aspects, asked item) -> the rendered answer
        self._answers: dict[tuple[str, str, tuple[str, ...], str | None], str] = {}
        self.env.filters["working_days"] = working_days
        self.env.globals["aspect_labels"] = ASPECT_LABELS
        self.env.globals["meta"] = kb.meta

    def missing_templates(self) -> list[str]:
        """Templates the project ships that the configured folder lacks (a deployment's own folder must
        hold every one: a missing template would otherwise fail in the middle of a conversation)."""
        shipped = data_dir("templates")
        names = sorted(p.relative_to(shipped).as_posix() for p in shipped.rglob("*.j2"))
        return [n for n in names if not (self.templates_dir / n).is_file()]

    def render(self, name: str, **ctx: Any) -> str:
        return tidy(self.env.get_template(name).render(**ctx))

    def entry_context(self, entry: Entry) -> dict[str, Any]:
        ctx: dict[str, Any] = {
            "entry": entry,
            "department": self.kb.department(entry.department),
            "contact": contact_of(self.kb, entry),
        }
        if entry.kind == "exemption":
            ctx["applies_to"] = [self.kb.get(i) for i in entry.items if self.kb.get(i)]
        else:
            ctx["exemptions"] = {e.id: e for e in self.kb.exemptions_for(entry.id)}
            for m in entry.materials if isinstance(entry, Item) else []:  # a FAQ lists no materials
                if m.exempted_by and m.exempted_by in self.kb.exemptions:
                    ctx["exemptions"][m.exempted_by] = self.kb.exemptions[m.exempted_by]
            ctx["bundles"] = [b for b in self.kb.bundles.values() if entry.id in b.items]
            if isinstance(entry, Bundle):
                ctx["parts"] = [self.kb.items[i] for i in entry.items if i in self.kb.items]
        return ctx

    def answer(
        self,
        entry: Entry,
        aspect: str | None,
        *,
        aspects: list[str] | None = None,
        asked_item: str | None = None,
    ) -> str:
        """The answer about one entry: one aspect, several (`aspects`, each in its own section), or for a 免证明
        entry whether the item the person named (`asked_item`) is covered."""
        aspect = aspect if aspect in ASPECT_LABELS else "overview"
        several = tuple(a for a in dict.fromkeys(aspects or ()) if a in ASPECT_LABELS)
        if len(several) < 2 or entry.kind == "exemption":
            several = ()
        if entry.kind != "exemption":
            asked_item = None
        # the knowledge base is immutable while the process runs, so an answer is rendered once
        key = (entry.id, aspect, several, asked_item)
        html = self._answers.get(key)
        if html is None:
            html = self._answers[key] = self._render_answer(entry, aspect, several, asked_item)
        return html

    def _render_answer(
        self, entry: Entry, aspect: str, several: tuple[str, ...], asked_item: str | None
    ) -> str:
        if entry.kind == "faq":
            return self.render("faq.html.j2", entry=entry, department=self.kb.department(entry.department))
        ctx = self.entry_context(entry)
        if entry.kind == "exemption":
            asked = self.kb.get(asked_item) if asked_item else None
            covered = asked is not None and asked.id in entry.items
            return self.render("exemption.html.j2", asked=asked, covered=covered, **ctx)
        if several:
            return self.render("item/multi.html.j2", aspects=list(several), section=True, **ctx)
        return self.render(f"item/{aspect}.html.j2", aspect=aspect, section=False, **ctx)
