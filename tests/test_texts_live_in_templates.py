"""The rule: every sentence a person reads lives in a template, never in Python.

The ticket modules may hold Chinese only as data labels that templates put into sentences — state, milestone, role, rating, action
and button names — and in the messages of the knowledge-file validation (calendar.yaml, sla.yaml), which
name a file and a field for whoever maintains them, like the knowledge loader's. Docstrings and comments are
free. Anything else with a Chinese character in a string literal fails this test: put it in a template under
templates/tickets/ (a whole message, or a macro in one of the snippets templates) and render it there.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TICKETS = ROOT / "bot" / "core" / "tickets"
NOT_YET: tuple[str, ...] = ()
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")

# module-level names whose values are data labels, shown inside sentences that live in templates
LABELS = {
    "PENDING",
    "IN_PROGRESS",
    "RESOLVED",
    "CLOSED",
    "ROLE_LABELS",
    "MILESTONE_LABELS",
    "DEADLINE_LABELS",
    "RATING_LABELS",
    "ACTION_LABELS",
    "BUTTON_LABELS",
    "NO_DEPARTMENT",
    "DEFAULT_DEPARTMENT",  # a department's name
    "FALLBACK",  # a category's name
    "ROLE_WORDS",  # what an admin may type for a role (input vocabulary)
    "PAUSE_REASONS_DEFAULT",  # the reasons an SLA clock may stop for, when sla.yaml names none (data)
    "GENERAL_TIER",  # the urgency tier when sla.yaml defines none: its label is data
}
# exceptions whose messages are knowledge-file validation for maintainers (file, entry, field)
VALIDATION_ERRORS = {"CalendarError", "SlaConfigError", "WorkflowConfigError"}
# local names in one module that hold pieces of its validation messages
VALIDATION_PIECES = {
    ("domain/statutory.py", "where"): "the place in calendar.yaml a CalendarError names",
    ("domain/statutory.py", "label"): "the holiday in calendar.yaml a CalendarError names",
    ("domain/sla.py", "where"): "the entry of sla.yaml (a policy, type or tier) a SlaConfigError names",
}
# single literals, each with its reason
ALLOWED = {
    ("domain/sla.py", "小时"): "a window's unit (Window.describe: 2小时), data for the intake's template",
    ("domain/sla.py", "个工作日"): "a window's unit (Window.describe: 1个工作日)",
    ("domain/statutory.py", "除夕"): "an anchor keyword of calendar.yaml (data vocabulary)",
    ("domain/statutory.py", "清明"): "an anchor keyword of calendar.yaml and lunar_python's solar-term name",
    ("intake/flow.py", "类"): "typed input: a category name followed by 类 (环境保护类) picks that category",
}
# whole modules: sample data for `python -m bot check`, never shown to a person; what people type instead of
# pressing a button (input vocabulary, matched, never shown)
SAMPLE_MODULES = {"samples.py", "intake/words.py", "intake/phone.py"}


def _modules() -> list[Path]:
    return [
        p
        for p in sorted(TICKETS.rglob("*.py"))
        if p.relative_to(TICKETS).parts[0] not in NOT_YET
        and p.relative_to(TICKETS).as_posix() not in SAMPLE_MODULES
    ]


def _docstrings(tree: ast.Module) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def _exempt(tree: ast.Module, rel: str = "") -> set[int]:
    """The string constants inside label assignments and validation errors."""
    ids: set[int] = set()
    for node in ast.walk(tree):
        inside = None
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = {t.id for t in targets if isinstance(t, ast.Name)}
            if names & LABELS or any((rel, n) in VALIDATION_PIECES for n in names):
                inside = node.value
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) in VALIDATION_ERRORS:
            inside = node
        if inside is not None:
            ids |= {id(n) for n in ast.walk(inside) if isinstance(n, ast.Constant)}
    return ids


def sentences_in_python() -> list[str]:
    found = []
    for path in _modules():
        rel = path.relative_to(TICKETS).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _docstrings(tree) | _exempt(tree, rel)
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Constant) and isinstance(node.value, str)) or id(node) in skip:
                continue
            if CJK.search(node.value) and (rel, node.value) not in ALLOWED:
                found.append(f"bot/core/tickets/{rel}:{node.lineno}: {node.value!r}")
    return found


def test_no_ticket_module_builds_chinese_sentences_in_python():
    assert sentences_in_python() == []


def test_the_scan_finds_a_sentence():
    # the test would notice a sentence written in Python again
    module = TICKETS / "views.py"
    tree = ast.parse(module.read_text(encoding="utf-8") + '\n\ndef f():\n    return f"诉求 {1} 已受理"\n')
    skip = _docstrings(tree) | _exempt(tree)
    hits = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and id(n) not in skip and isinstance(n.value, str)
    ]
    assert any(CJK.search(n.value) and "已受理" in n.value for n in hits)
    # while the labels and docstrings are not flagged
    assert not any(CJK.search(n.value) and n.value == "非常满意" for n in hits)


def test_the_exceptions_are_still_needed():
    """Each allowed literal is still there (so the list does not keep excusing what is gone)."""
    present = set()
    for path in _modules():
        rel = path.relative_to(TICKETS).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and (rel, node.value) in ALLOWED:
                present.add((rel, node.value))
    assert present == set(ALLOWED)
