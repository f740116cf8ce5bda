"""Split Telegram-HTML into messages that fit Telegram's 4,096-character limit.

Cuts fall at line boundaries where possible (else at a space or punctuation, else anywhere outside a tag or
entity). Tags open at a cut are closed at the end of one part and reopened at the start of the next, so every
part is valid HTML on its own. Length is counted in UTF-16 code units of the raw HTML, which is never less
than what Telegram counts after parsing, so a part is never rejected for length.
"""

from __future__ import annotations

import re

TELEGRAM_LIMIT = 4096

_TAG_RE = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)([^>]*)>")
_SOFT_BREAKS = "。！？；，、：.!?;, \t"


def _u16(s: str) -> int:
    return len(s.encode("utf-16-le")) // 2


def _tokens(html: str) -> list[tuple[str, str]]:
    """('tag', '<b>') / ('entity', '&amp;') / ('text', 'x') tokens; text is one character each so cuts can go
    anywhere between them. Runs of plain text are kept as single tokens for speed and split later if needed."""
    out: list[tuple[str, str]] = []
    pos = 0
    for m in re.finditer(r"<[^>]*>|&[#a-zA-Z0-9]+;", html):
        if m.start() > pos:
            out.append(("text", html[pos : m.start()]))
        tok = m.group(0)
        out.append(("tag" if tok.startswith("<") else "entity", tok))
        pos = m.end()
    if pos < len(html):
        out.append(("text", html[pos:]))
    return out


class _Builder:
    def __init__(self, limit: int):
        self.limit = limit
        self.parts: list[str] = []
        self.cur: list[str] = []
        self.cur_len = 0
        # stack of (name, opening tag text)
        self.open: list[tuple[str, str]] = []

    def closing_len(self) -> int:
        return sum(len(f"</{name}>") for name, _ in self.open)

    def room(self) -> int:
        return self.limit - self.cur_len - self.closing_len()

    def flush(self) -> None:
        body = "".join(self.cur)
        if body.strip() and _visible(body):
            closing = "".join(f"</{name}>" for name, _ in reversed(self.open))
            self.parts.append((body + closing).strip("\n"))
        reopen = "".join(tag for _, tag in self.open)
        self.cur = [reopen] if reopen else []
        self.cur_len = _u16(reopen)

    def has_content(self) -> bool:
        return self.cur_len > _u16("".join(tag for _, tag in self.open))

    def _stack_after(self, line: str) -> list[tuple[str, str]]:
        stack = list(self.open)
        for m in _TAG_RE.finditer(line):
            name = m.group(2).lower()
            if m.group(1):
                for i in range(len(stack) - 1, -1, -1):
                    if stack[i][0] == name:
                        del stack[i]
                        break
            else:
                stack.append((name, m.group(0)))
        return stack

    def fits_line(self, line: str) -> bool:
        closing = sum(len(f"</{name}>") for name, _ in self._stack_after(line))
        return self.cur_len + _u16(line) + closing <= self.limit

    def whole_line(self, line: str) -> None:
        self.open = self._stack_after(line)
        self.add(line)

    def add(self, s: str) -> None:
        self.cur.append(s)
        self.cur_len += _u16(s)

    def tag(self, tok: str) -> None:
        m = _TAG_RE.fullmatch(tok)
        if m is None:
            self.atom(tok)
            return
        closing, name = m.group(1), m.group(2).lower()
        need = _u16(tok) + (0 if closing else len(f"</{name}>"))
        if need > self.room():
            self.flush()
        self.add(tok)
        if closing:
            for i in range(len(self.open) - 1, -1, -1):
                if self.open[i][0] == name:
                    del self.open[i]
                    break
        else:
            self.open.append((name, tok))

    def atom(self, tok: str) -> None:
        if _u16(tok) > self.room():
            self.flush()
        self.add(tok)

    def text(self, s: str) -> None:
        while s:
            room = self.room()
            if _u16(s) <= room:
                self.add(s)
                return
            cut = _cut_point(s, room)
            if cut <= 0:
                if self.has_content():
                    self.flush()
                    continue
                cut = max(1, _fit(s, room))
            self.add(s[:cut])
            s = s[cut:]
            self.flush()


def _fit(s: str, room: int) -> int:
    """Largest prefix length (in characters) whose UTF-16 length fits in room."""
    n = 0
    used = 0
    for ch in s:
        w = 2 if ord(ch) > 0xFFFF else 1
        if used + w > room:
            break
        used += w
        n += 1
    return n


def _cut_point(s: str, room: int) -> int:
    """Where to cut text `s` so the head fits in `room`: after the last newline, else after the last soft
    break in the second half, else 0 (meaning: flush first / hard cut)."""
    n = _fit(s, room)
    if n <= 0:
        return 0
    head = s[:n]
    nl = head.rfind("\n")
    if nl >= 0:
        return nl + 1
    best = max(head.rfind(ch) for ch in _SOFT_BREAKS)
    if best >= n // 2:
        return best + 1
    return 0


def _visible(body: str) -> bool:
    return bool(re.sub(r"<[^>]*>", "", body).strip())


def split_html(html: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Split `html` into parts of at most `limit` UTF-16 units, each with balanced tags."""
    if _u16(html) <= limit:
        return [html]
    b = _Builder(limit)
    for line in html.splitlines(keepends=True):
        if b.fits_line(line):
            b.whole_line(line)
            continue
        if b.has_content():
            b.flush()
            if b.fits_line(line):
                b.whole_line(line)
                continue
        # a single line longer than a message: cut inside it, at soft breaks where possible
        for kind, tok in _tokens(line):
            if kind == "tag":
                b.tag(tok)
            elif kind == "entity":
                b.atom(tok)
            else:
                b.text(tok)
    b.flush()
    return [p for p in b.parts if p]
