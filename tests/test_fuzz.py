"""Fuzz: thousands of hostile inputs through the real façade and the console, from a fixed seed.

Free text (empty, very long, emoji only, lone surrogates, control characters, mixed scripts, superscript and
other non-ASCII digits, HTML, RTL marks…), every registered command's arguments as a citizen, a handler, a
supervisor and an admin, every intake step with inputs thrown at it, and every button prefix with garbage
parts. Every input gets a non-empty reply (in a staff group: none for what is not a command or a button), and
nothing escapes as an exception. The seed is fixed, so a failure names an input that fails again.
"""

from __future__ import annotations

import io
import random
import re

import pytest

from bot.adapters.console import STAFF, Console, OffsetClock
from bot.core import callbacks
from bot.core.messages import Incoming, Reply
from bot.core.tickets.commands.registry import REGISTRY
from bot.core.tickets.intake.draft import Draft, Step

SEED = 20261123
CITIZEN, HANDLER, SUPERVISOR, ADMIN = "c-fuzz", "h-fuzz", "s-fuzz", "a-fuzz"
ROLES = (CITIZEN, HANDLER, SUPERVISOR, ADMIN)
DEPARTMENT = "住房和城乡建设局"  # where the tickets filed below go

# pieces that have broken text handling somewhere: each is used alone and glued to others
PIECES = [
    "",
    " ",
    "\n\n\t ",
    "社保卡丢了怎么补办",
    "小区门口垃圾好几天没人清运了，臭死了",
    "我家楼下的路灯坏了半个月",
    "13812345678",
    "１３８１２３４５６７８",
    "110101199003071234",
    "SQ20261123-0001",
    "1",
    "0",
    "-1",
    "99999999999999999999999",
    "²",
    "³¹",
    "١٢٣",  # Arabic-Indic digits
    "۴",  # Persian digit
    "४२",  # Devanagari digits
    "①②",
    "Ⅻ",
    "五",
    "😀😀😀",
    "👨‍👩‍👧‍👦",
    "🇨🇳",
    "\ud800",  # lone surrogates
    "\udfff abc",
    "a\udc80b",
    "\x00",
    "\x1b[31m",
    "\x7f\x85",
    "\u200b\u200c\u200d\ufeff",
    "\u202e\u200f\u061c",  # RTL override and marks
    "مرحبا",
    "שלום",
    "Привет",
    "e\u0301\u0301\u0301",
    "ｈｅｌｌｏ",
    "<b>加粗</b>",
    "<script>alert(1)</script>",
    "&amp;&lt;&#x27;",
    "<a href='javascript:x'>x</a>",
    "${{7*7}}{% raw %}",
    "'; DROP TABLE tickets; --",
    "%s %d {0} {name}",
    "/",
    "//",
    "@",
    ":",
    "：",
    "取消",
    "提交",
    "跳过",
    "是",
    "匿名",
    "其他",
    "城乡建设",
    DEPARTMENT,
    "all",
    "list",
    "retry",
    "add",
    "remove",
    "mine",
    "overdue",
    "dept",
    "week",
    "handler",
    "supervisor",
    "admin",
    "管理员",
]


def long_text(rng: random.Random) -> str:
    return rng.choice(["很长的描述", "a", "😀", "1", "\ud800", "<b>"]) * rng.choice([500, 4_100, 20_000])


def free_text(rng: random.Random) -> str:
    if rng.random() < 0.04:
        return long_text(rng)
    n = rng.choice([1, 1, 2, 3, 4])
    return rng.choice(["", " ", "\n"]).join(rng.choice(PIECES) for _ in range(n))


def argument(rng: random.Random, numbers: list[str]) -> str:
    if rng.random() < 0.4:
        return rng.choice(numbers)
    return free_text(rng)


def command_text(rng: random.Random, name: str, numbers: list[str]) -> str:
    head = "/" + (name.upper() if rng.random() < 0.1 else name)
    if rng.random() < 0.1:
        head += rng.choice(["@zwfw_bot", "@", "@\ud800"])
    args = [argument(rng, numbers) for _ in range(rng.choice([0, 1, 1, 2, 3, 4]))]
    return (head + rng.choice([" ", "  ", "\n", "\u3000"]) + " ".join(args)).rstrip(" ")


def button_data(rng: random.Random, prefix: str, numbers: list[str]) -> str:
    parts = [rng.choice([*numbers, *PIECES[:40]]) for _ in range(rng.choice([0, 1, 2, 3, 5]))]
    return ":".join([prefix, *parts])[: rng.choice([64, 64, 200])]


def replies_ok(replies: object, *, group: bool, command_or_button: bool, what: object) -> None:
    assert isinstance(replies, list), what
    if group and not command_or_button:
        assert replies == [], what
        return
    assert replies, what
    for r in replies:
        assert isinstance(r, Reply) and isinstance(r.html, str) and r.html.strip(), what
        for row in r.buttons:
            for b in row:
                assert b.label and callbacks.fits(b.data), what


async def file_ticket(a, user: str, text: str) -> str:
    """A ticket filed through the intake with the buttons a person would press; its number."""
    replies = await a.handle(Incoming(user, user, text=text))
    for _ in range(8):
        found = re.search(r"SQ\d{8}-\d{4}", " ".join(r.html for r in replies))
        if found:
            return found.group(0)
        offered = [b.data for r in replies for row in r.buttons for b in row]
        wanted = ("in:submit", "in:ok", "in:anon:0", "in:skip", "in:nophone")
        choice = next((d for d in wanted if d in offered), None)
        if choice is None:  # the category was not guessed: pick the first one offered
            choice = next(d for d in offered if d.startswith("in:c"))
        replies = await a.handle(Incoming(user, user, callback=choice))
    raise AssertionError(f"no ticket filed: {[r.html for r in replies]}")


@pytest.fixture
async def fuzz_app(tmp_path, clock, build_app):
    app = await build_app(tmp_path / "fuzz.db", clock, extra_admins={ADMIN, STAFF})
    a = app.assistant
    for user, role in ((HANDLER, "handler"), (SUPERVISOR, "supervisor")):
        [added] = await a.handle(Incoming(ADMIN, ADMIN, text=f"/staff add {user} {role} {DEPARTMENT} 测试"))
        assert user in added.html
    numbers = [
        await file_ticket(a, CITIZEN, "我们小区门口的路灯坏了半个多月了也没人修，晚上很危险"),
        await file_ticket(a, "c-other", "小区旁边的工地半夜还在施工，噪音太大睡不着"),
    ]
    numbers += [n.rsplit("-", 1)[1] for n in numbers] + [n.rsplit("-", 1)[1].lstrip("0") for n in numbers]
    return app, numbers


async def test_fuzz_every_input_gets_an_answer_and_nothing_escapes(fuzz_app):
    app, numbers = fuzz_app
    a = app.assistant
    rng = random.Random(SEED)
    count = 0

    async def send(msg: Incoming, *, command_or_button: bool) -> None:
        nonlocal count
        count += 1
        try:
            replies = await a.handle(msg)
        except Exception as exc:  # a readable failure: which input broke what
            raise AssertionError(f"{msg!r} raised {type(exc).__name__}: {exc}") from exc
        replies_ok(replies, group=msg.is_group, command_or_button=command_or_button, what=msg)

    # free text from a citizen (some of it starts an intake, which the next inputs then go through)
    for _ in range(600):
        await send(Incoming(CITIZEN + "-t", CITIZEN + "-t", text=free_text(rng)), command_or_button=False)
    # every command of the registry, with random arguments, as each role, in private and in a staff group
    names = REGISTRY.names()
    assert {"claim", "staff", "outbox", "my", "ticket"} <= set(names)
    for name in names:
        for user in ROLES:
            for _ in range(8):
                group = rng.random() < 0.25
                chat = "group:fuzz" if group else user
                text = command_text(rng, name, numbers)
                await send(Incoming(user, chat, text=text, is_group=group), command_or_button=True)
    # text in a staff group that is not a command gets no answer
    for _ in range(60):
        text = free_text(rng)
        if text.strip().startswith("/"):
            continue
        await send(Incoming(HANDLER, "group:fuzz", text=text, is_group=True), command_or_button=False)
    # every button prefix (and unknown ones) with garbage parts, as each role
    prefixes = [p.value for p in callbacks.Prefix] + ["", "zz", "in:", "rate:1", "\ud800"]
    for prefix in prefixes:
        for user in ROLES:
            for _ in range(12):
                group = rng.random() < 0.25
                chat = "group:fuzz" if group else user
                data = button_data(rng, prefix, numbers)
                await send(Incoming(user, chat, callback=data, is_group=group), command_or_button=True)
    # every intake step: drive a citizen there once, then throw text and buttons at that exact state
    state = app.store.state
    for step in Step:
        user = f"c-step-{step.value}"
        snapshot = await drive_to(a, state, user, step)
        for _ in range(60):
            await state.save(user, snapshot)
            roll = rng.random()
            if roll < 0.15:  # a command in the middle of the intake
                msg = Incoming(user, user, text=command_text(rng, rng.choice(names), numbers))
            elif roll < 0.6:
                msg = Incoming(user, user, text=free_text(rng))
            else:
                action = rng.choice(
                    ["ok", "cats", "desc", "skip", "nophone", "anon:1", "anon:0", "submit", "edit", "back",
                     "x", "add", "ask", "c:", "ci:", "e:", "anon:", "e:zz"]
                )  # fmt: skip
                msg = Incoming(user, user, callback=button_data(rng, "in:" + action, numbers))
            await send(msg, command_or_button=True)
    assert count >= 2_000, count
    print(f"{count} inputs through the façade")


async def drive_to(a, state, user: str, step: Step) -> dict:
    """Drive a citizen's intake to `step` through the façade, as a person would; the stored draft there."""
    path = {
        Step.DESCRIPTION: ["in:desc"],
        Step.CATEGORY: [],
        Step.CATEGORY_PICK: ["in:cats"],
        Step.PLACE: ["in:ok"],
        Step.PHONE: ["in:ok", "in:skip"],
        Step.ANONYMOUS: ["in:ok", "in:skip", "in:nophone"],
        Step.SUMMARY: ["in:ok", "in:skip", "in:nophone", "in:anon:0"],
        Step.EDIT: ["in:ok", "in:skip", "in:nophone", "in:anon:0", "in:edit"],
        Step.TYPE_PICK: ["in:ok", "in:skip", "in:nophone", "in:anon:0", "in:edit", "in:e:type"],
    }[step]
    await a.handle(Incoming(user, user, text="我们小区门口的路灯坏了半个多月了也没人修，晚上很危险"))
    for data in path:
        await a.handle(Incoming(user, user, callback=data))
    saved = await state.load(user)
    draft = Draft.from_json(saved) if saved else None
    assert draft is not None and draft.step == step, (step, saved)
    return saved


async def test_fuzz_through_the_console(fuzz_app):
    app, numbers = fuzz_app
    out = io.StringIO()
    console = Console(app.assistant, OffsetClock(app.clock), out)
    rng = random.Random(SEED + 1)
    controls = [":staff", ":citizen", ":group", ":group " + DEPARTMENT, ":group \ud800", ":later 2h",
                ":later 99999999d", ":later x", ":later", ":tick", ":digest", ":digest 不存在", ":help", ":",
                ":nonsense"]  # fmt: skip
    lines = 0
    for _ in range(400):
        roll = rng.random()
        if roll < 0.1:
            line = rng.choice(controls)
        elif roll < 0.3:
            line = rng.choice(
                ["1", "2", "9", "0", "²", "١", "12", "999", " 1 "]
            )  # pressing a button by number
        elif roll < 0.5:
            line = command_text(rng, rng.choice(REGISTRY.names()), numbers)
        else:
            line = free_text(rng)
        if line.strip() in (":quit", ":exit", ":q"):
            continue
        before = out.tell()
        try:
            assert await console.step(line + "\n") is True
        except Exception as exc:
            raise AssertionError(f"console line {line!r} raised {type(exc).__name__}: {exc}") from exc
        lines += 1
        said = out.getvalue()[before:]
        if not console.group or line.strip().startswith((":", "/")):
            assert said.strip(), line
    assert lines >= 300
