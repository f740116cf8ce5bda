"""`python -m bot check` renders every ticket text, and fails naming the template when one cannot render."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.core.resources import data_dir
from bot.core.texts import Texts
from bot.core.tickets import samples, views
from bot.core.tickets.domain.sla import load_policies
from bot.core.tickets.samples import check_texts
from bot.core.tickets.views import TicketViews

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def policies():
    return load_policies()


@pytest.fixture
def templates(tmp_path) -> Path:
    """A copy of the shipped templates to break."""
    return Path(shutil.copytree(data_dir("templates"), tmp_path / "templates"))


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_every_ticket_text_renders(policies):
    report = check_texts(Texts(), policies)
    assert report.problems == []
    assert report.rendered > 300


def test_check_command_counts_the_ticket_texts(capsys):
    assert main(["check"]) == 0
    assert "条诉求和提示文本" in capsys.readouterr().out


def test_a_variable_a_template_needs_and_nobody_gives_fails_check(templates, monkeypatch, capsys):
    edit(
        templates / "tickets/staff_card.html.j2",
        "承办：{{ t.department }}",
        "承办：{{ t.department }}{{ office }}",
    )
    monkeypatch.setenv("TEMPLATES_DIR", str(templates))
    assert main(["check"]) == 1
    err = capsys.readouterr().err
    assert "tickets/staff_card.html.j2:5: UndefinedError: 'office' is undefined" in err


def test_a_value_deleted_from_the_context_fails_check(policies, monkeypatch):
    card_context = TicketViews.card_context

    def without_place(self, *args, **kwargs):
        ctx = card_context(self, *args, **kwargs)
        del ctx["place"]
        return ctx

    monkeypatch.setattr(TicketViews, "card_context", without_place)
    problems = check_texts(Texts(), policies).problems
    assert any("tickets/staff_card.html.j2" in p and "'place' is undefined" in p for p in problems), problems


def test_a_macro_argument_left_out_fails_check(templates, policies):
    # the template now wants the handler's name, which the code does not pass
    edit(
        templates / "tickets/notices.html.j2",
        "macro claimed(number, department)",
        "macro claimed(number, name)",
    )
    edit(
        templates / "tickets/notices.html.j2",
        "已由{{ department }}受理",
        "已由{{ department }}{{ name }}受理",
    )
    problems = check_texts(Texts(templates), policies).problems
    assert (
        "tickets/notices.html.j2：宏 claimed 的参数应为 ('number', 'department')，而不是 ('number', 'name')"
        in problems
    )
    assert any(
        "受理通知" in p and "TypeError: macro 'claimed' takes no keyword argument 'department'" in p
        for p in problems
    )


def test_a_deleted_template_or_macro_fails_check(templates, policies):
    (templates / "tickets/reminder.html.j2").unlink()
    edit(templates / "tickets/errors.html.j2", "{% macro busy() -%}", "{% macro busy_now() -%}")
    problems = check_texts(Texts(templates), policies).problems
    assert any(p.startswith("TemplateNotFound: 'tickets/reminder.html.j2' not found") for p in problems), (
        problems
    )
    assert "tickets/errors.html.j2：缺少宏 busy()" in problems


def test_a_template_nobody_renders_is_reported(templates, policies):
    (templates / "tickets/holiday_greeting.html.j2").write_text("节日快乐", encoding="utf-8")
    problems = check_texts(Texts(templates), policies).problems
    assert problems == [
        "tickets/holiday_greeting.html.j2：检查没有渲染这个模板（请在 bot/core/tickets/samples.py 中加上）"
    ]


# ---------------------------------------------------------------------------------------------------------
# The code side: every call that names a macro passes exactly the arguments the macro declares, so a text the
# sample run does not reach (an error path) cannot fail at run time either.

SNIPPET_CALLS = {
    # method or function -> (template, index of the macro-name argument, arguments the method adds itself)
    "error": (views.ERRORS, 0, set()),
    "refusal": (views.REFUSALS, 0, set()),
    "event": (views.EVENTS, 0, set()),
    "to_citizen": (views.NOTICES, 0, {"number"}),
    "workflow": (views.WORKFLOW, 0, set()),
    "_notify_citizen": (views.NOTICES, 1, {"number"}),
    "PermissionDenied": (views.REFUSALS, 0, set()),
}
WORDS = {"bot/adapters/console.py": samples.CONSOLE, "bot/adapters/telegram/app.py": samples.TELEGRAM}


def _constants(tree: ast.Module) -> dict[str, str]:
    """The module's NAME = "string" assignments (template names)."""
    out = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name) and isinstance(node.value.value, str):
                    out[target.id] = node.value.value
    return out


def _macro(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.isidentifier():
        return node.value
    return None  # a sentence already (PermissionDenied("…")) or a variable


def _keys(node: ast.expr | None) -> set[str] | None:
    if node is None:
        return set()
    if isinstance(node, ast.Dict) and all(isinstance(k, ast.Constant) for k in node.keys):
        return {k.value for k in node.keys}  # type: ignore[union-attr]
    return None


def _calls() -> list[tuple[str, str, str, set[str]]]:
    """(where, template, macro, the argument names given) of every call naming a macro of a snippets template."""
    found = []
    for path in sorted((ROOT / "bot").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = _constants(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or any(kw.arg is None for kw in node.keywords):
                continue
            func, args = node.func, node.args
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if isinstance(func, ast.Attribute) and getattr(func.value, "id", "") in ("log", "logging"):
                continue  # log.error(…)
            given = {kw.arg for kw in node.keywords if kw.arg}
            where = f"{rel}:{node.lineno}"
            if name in ("say", "_say") and len(args) >= 2:
                # Texts.say(TEMPLATE, "macro", …), TicketViews._say(TEMPLATE, "macro", …)
                first = args[0]
                template = (
                    first.value
                    if isinstance(first, ast.Constant)
                    else constants.get(getattr(first, "id", ""))
                )
                if isinstance(template, str) and template.endswith(".j2"):
                    if _macro(args[1]):
                        found.append((where, template, _macro(args[1]), given))
                    continue
            if rel == "bot/adapters/telegram/runner.py" and name in ("_say", "_problem"):
                # _say(settings, "macro", …); _problem(settings, retry, "what", "advice", {advice facts}, …)
                if name == "_say" and _macro(args[1]):
                    found.append((where, samples.STARTUP, _macro(args[1]), given))
                if name == "_problem" and _macro(args[2]) and _macro(args[3]):
                    advice = _keys(args[4] if len(args) > 4 else None)
                    found.append((where, samples.STARTUP, _macro(args[2]), given))
                    if advice is not None:
                        found.append((where, samples.STARTUP, _macro(args[3]), advice))
                continue
            if name == "words" and rel in WORDS and args and _macro(args[0]):
                found.append((where, WORDS[rel], _macro(args[0]), given))
                continue
            spec = SNIPPET_CALLS.get(name or "")
            if spec is not None:
                template, index, added = spec
                if len(args) > index and _macro(args[index]):
                    found.append((where, template, _macro(args[index]), given | added))
    return found


def test_every_call_of_a_macro_passes_the_arguments_it_declares():
    texts = Texts()
    calls = _calls()
    assert (
        len(calls) > 80
    )  # the scan finds the calls (errors, refusals, events, notices, the adapters' words)
    assert {template for _, template, _, _ in calls} >= set(samples.SNIPPETS) - {samples.LINES, samples.DATES}
    wrong = []
    for where, template, macro, given in calls:
        module = texts.module(template)
        if not hasattr(module, macro):
            wrong.append(f"{where}: {template} has no macro {macro}")
            continue
        declared = set(getattr(module, macro).arguments)
        if given != declared:
            wrong.append(f"{where}: {template} {macro}{sorted(declared)} called with {sorted(given)}")
    assert wrong == []
