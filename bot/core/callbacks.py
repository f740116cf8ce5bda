"""Button data: one registry of the prefixes the core puts on buttons, who handles each, and how data is built.

A button's data comes back verbatim when it is pressed, so it must stay short (Telegram allows 64 bytes) and
must be checked like any other input: a forged or stale value gets "按钮已过期", never an exception.
"""

from __future__ import annotations

from enum import StrEnum

MAX_BYTES = 64


class Prefix(StrEnum):
    ASPECT = "a"  # a:<aspect>:<entry id> — another aspect of the entry just answered
    PICK = "pick"  # pick:<entry id>:<aspect> — a choice of a clarifying question
    TICKET = "t"  # t:new — file a 诉求 about what could not be answered
    INTAKE = "in"  # in:<action> — a step of the 诉求 intake
    CLAIM = "claim"  # claim:<number> — staff claim a ticket
    TRANSFER = "xfer"  # xfer:<number>[:<department index>] — staff transfer a ticket
    RATE = "rate"  # rate:<number>:<score> — the citizen rates a resolved ticket
    COMMENT = "cmt"  # cmt:<number> — the citizen adds a comment to their rating
    ATTACH = (
        "att"  # att:new | att:add:<number> | att:no — a bare photo or pin; att:show:<number> — re-send files
    )
    VISIT = "visit"  # visit:<number>:<yes|no> — 回访: the citizen says whether the problem was solved
    REQUEST = "rq"  # rq:ok:<number> — the dispatcher approves the ticket's waiting request
    POLICY = "pol"  # pol:<action>[:<value>…] — 惠企政策: an answer, a detail, more, saving the profile
    KNOWLEDGE = "kb"  # kb:faq|faqok|faqno:<number> — staff add a closed 咨询 ticket to the knowledge base


# who handles a prefix: the dialogue (answers), the intake, or the ticket commands
OWNER: dict[Prefix, str] = {
    Prefix.ASPECT: "dialogue",
    Prefix.PICK: "dialogue",
    Prefix.TICKET: "dialogue",
    Prefix.INTAKE: "intake",
    Prefix.CLAIM: "commands",
    Prefix.TRANSFER: "commands",
    Prefix.RATE: "commands",
    Prefix.COMMENT: "commands",
    Prefix.ATTACH: "attachments",
    Prefix.VISIT: "commands",
    Prefix.REQUEST: "commands",
    Prefix.POLICY: "policies",
    Prefix.KNOWLEDGE: "commands",
}


def data(prefix: Prefix, *parts: object) -> str:
    """`data(Prefix.RATE, "SQ20261123-0001", 5)` -> "rate:SQ20261123-0001:5"."""
    text = ":".join([prefix.value, *(str(p) for p in parts)])
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise ValueError(f"button data longer than {MAX_BYTES} bytes: {text!r}")
    return text


def fits(text: str) -> bool:
    return len(text.encode("utf-8")) <= MAX_BYTES


def parse(raw: str) -> tuple[Prefix | None, list[str]]:
    """The prefix (None when unknown) and the remaining parts of pressed button data."""
    head, _, rest = (raw or "").partition(":")
    try:
        prefix = Prefix(head)
    except ValueError:
        return None, []
    return prefix, rest.split(":") if rest else []


def owner(raw: str) -> str | None:
    prefix, _ = parse(raw)
    return OWNER.get(prefix) if prefix is not None else None
