"""Killed mid-load: every ticket whose number was handed out is in the database, and no number is used twice."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import sys
import textwrap
from pathlib import Path

from bot.core.clock import FixedClock
from tests.test_tickets_helpers import at, make_service

ROOT = Path(__file__).resolve().parents[1]

CHILD = textwrap.dedent(
    """
    import asyncio, sys
    sys.path.insert(0, sys.argv[2])
    from bot.core.clock import FixedClock
    from tests.test_tickets_helpers import at, make_service

    async def creator(service, i):
        n = 0
        while True:
            t = await service.create(citizen_id=f"c{i}", description=f"第{n}件诉求", category="城乡建设")
            print(t.number, flush=True)
            n += 1

    async def main():
        clock = FixedClock(at(2026, 11, 23, 10, 0))
        service = await make_service(sys.argv[1], clock, staff=False)
        await asyncio.gather(*(creator(service, i) for i in range(100)))

    asyncio.run(main())
    """
)


async def test_sigkill_during_creation_loses_no_returned_ticket(tmp_path):
    db = tmp_path / "t.db"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CHILD,
        str(db),
        str(ROOT),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=ROOT,
    )
    returned: list[str] = []
    try:
        assert proc.stdout is not None
        while len(returned) < 1500:
            line = await asyncio.wait_for(proc.stdout.readline(), 60)
            if not line:
                break
            if line.endswith(b"\n"):
                returned.append(line.decode().strip())
        proc.send_signal(signal.SIGKILL)  # in the middle of the load
        rest, err = await asyncio.wait_for(proc.communicate(), 30)
    finally:
        if proc.returncode is None:
            proc.kill()
    returned += [ln.decode().strip() for ln in rest.splitlines(keepends=True) if ln.endswith(b"\n")]
    assert len(returned) >= 1500, err.decode()[-2000:]
    assert proc.returncode == -signal.SIGKILL
    assert len(set(returned)) == len(returned)  # never the same number twice

    service = await make_service(db, FixedClock(at(2026, 11, 23, 12, 0)), staff=False)
    try:
        for number in returned:
            assert await service.get(number) is not None, number
    finally:
        await service.store.close()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        numbers = [r[0] for r in conn.execute("SELECT number FROM tickets")]
        assert len(numbers) == len(set(numbers)) >= len(returned)
        # every stored ticket has its creation event (written in the same transaction)
        missing = conn.execute(
            "SELECT COUNT(*) FROM tickets t WHERE NOT EXISTS"
            " (SELECT 1 FROM ticket_events e WHERE e.ticket_id = t.id AND e.action = 'create')"
        ).fetchone()[0]
        assert missing == 0
        seqs = sorted(int(n.rsplit("-", 1)[1]) for n in numbers)
        assert seqs == list(range(1, len(seqs) + 1))  # the daily sequence has no gaps or repeats
