"""属地派单: a category marked `by_place` in appeals.yaml goes to the department named by the 街道/乡镇 its map pin
lies in (`properties.department` of that unit's boundary in knowledge/boundaries), when it names one."""

from __future__ import annotations

from typing import Any


def unit_department(kb: Any, category: str | None, unit: str | None) -> str | None:
    """The department of the 属地 unit for a category routed by place; None when the category is not, there is
    no unit, or the unit names no department (the category's own department applies)."""
    if not category or not unit:
        return None
    cat = (getattr(kb, "appeal_categories", {}) or {}).get(category)
    boundaries = getattr(kb, "boundaries", None)
    if cat is None or not cat.by_place or not boundaries:
        return None
    found = boundaries.unit(unit)
    return found.department if found is not None and found.department else None
