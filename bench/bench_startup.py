"""Start-up cost of one command as a whole process, against the bare import of its own dependencies.

    python bench/bench_startup.py                      # 10 rounds of `python -m bot ask 护照怎么办` vs the baseline
    python bench/bench_startup.py --rounds 20
    python bench/bench_startup.py --tree /tmp/old      # also time `ask` from another checkout (e.g. `git archive`
                                                       # of an older commit), in the same rounds
    python bench/bench_startup.py --chat               # also `python -m bot chat`: one question, then :quit
    python bench/bench_startup.py --modules            # the third-party modules `ask` imports, then exit

Each round runs every command once, in an order that alternates from round to round, so drift in the machine's
load hits all of them alike; the ratio is taken within each round (ask / baseline of the same round) and printed
as min – median – max over the rounds. Wall time is what a person waits; CPU is user + system time of the child
(less sensitive to other work on a shared machine); peak RSS comes from the kernel (wait4).

Byte-code is cached as in any installation (pip compiles a wheel's modules when it installs them; a checkout
writes __pycache__/ on the first run, here the warm-up): PYTHONDONTWRITEBYTECODE is removed from the
children's environment. --no-bytecode sets it instead, and then every run compiles the bot's ~45 modules
from source (about 0.1 s).

Baselines (bench/bare_imports.py):
  bare    the third-party libraries `ask` imports, configured as the bot configures them (the target's baseline)
  issue   the list in the restructure issue, library defaults (jieba's module, pypinyin's phrase dictionary)

Prints figures; asserts nothing. Targets: `ask` ≤ 3 × bare; the console's peak RSS after start-up and one
question ≤ 120 MB.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUESTION = "护照怎么办"
CHAT_INPUT = f"{QUESTION}\n:quit\n".encode()

_LIST_MODULES = """
import runpy, sys
sys.argv = ["bot", "ask", QUESTION]
try:
    runpy.run_module("bot", run_name="__main__")
except SystemExit:
    pass
std = set(sys.stdlib_module_names)
tops = {m.split(".")[0] for m in sys.modules} - std - {"bot", "__main__"}
print(" ".join(sorted(t for t in tops if not t.startswith("_") and t != "cython_runtime")), file=sys.stderr)
""".replace("QUESTION", repr(QUESTION))


def child_env(bytecode: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYPINYIN_")}
    if bytecode:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


Command = tuple[list[str], Path, bytes | None]  # argv, working directory, standard input


def run_once(command: Command, env: dict[str, str]) -> tuple[float, float, int]:
    """(wall s, cpu s, peak RSS MB) of one child process."""
    argv, cwd, stdin = command
    t0 = time.perf_counter()
    p = subprocess.Popen(
        argv,
        cwd=cwd,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    if p.stdin is not None:
        p.stdin.write(stdin or b"")
        p.stdin.close()
    err = p.stderr.read().decode() if p.stderr else ""  # (a child that fills the pipe would block otherwise)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.stderr:
        p.stderr.close()
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({p.returncode}):\n{err}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss // 1024


def spread(values: list[float], fmt: str = "{:.2f}") -> str:
    return " – ".join(fmt.format(v) for v in (min(values), statistics.median(values), max(values)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--tree", type=Path, help="another checkout whose `python -m bot ask` is timed too")
    ap.add_argument("--modules", action="store_true", help="print the third-party modules `ask` imports")
    ap.add_argument(
        "--chat",
        action="store_true",
        help="also the console: one question, then :quit (peak RSS is the target)",
    )
    ap.add_argument(
        "--no-bytecode",
        action="store_true",
        help="run with PYTHONDONTWRITEBYTECODE=1: the bot's own modules are compiled from source every time",
    )
    args = ap.parse_args()
    env = child_env(not args.no_bytecode)
    py = sys.executable
    if args.modules:
        subprocess.run([py, "-c", _LIST_MODULES], cwd=ROOT, stdout=subprocess.DEVNULL, env=env, check=True)
        return

    tmp = tempfile.TemporaryDirectory(prefix="bench-startup-")
    commands: dict[str, Command] = {
        "ask": ([py, "-m", "bot", "ask", QUESTION], ROOT, None),
        "bare": ([py, str(ROOT / "bench" / "bare_imports.py")], ROOT, None),
        "issue": ([py, str(ROOT / "bench" / "bare_imports.py"), "--issue"], ROOT, None),
    }
    trees = {"": ROOT}
    if args.tree:
        # `python -m bot` puts the working directory first on sys.path: the tree's own bot package and data
        commands["ask@tree"] = ([py, "-m", "bot", "ask", QUESTION], args.tree.resolve(), None)
        trees["@tree"] = args.tree.resolve()
    if args.chat:
        for suffix, tree in trees.items():
            db = Path(tmp.name) / f"chat{suffix}.db"
            commands[f"chat{suffix}"] = ([py, "-m", "bot", "chat", "--db", str(db)], tree, CHAT_INPUT)
    names = list(commands)
    for name in names:  # warm-up: byte-code compiled, files in the page cache, chat databases created
        run_once(commands[name], env)
    got: dict[str, list[tuple[float, float, int]]] = {n: [] for n in names}
    for r in range(args.rounds):
        order = names if r % 2 == 0 else names[::-1]
        for name in order:
            got[name].append(run_once(commands[name], env))
        print(
            f"round {r + 1:2d}: "
            + "  ".join(f"{n} {got[n][-1][0]:.2f}s/{got[n][-1][1]:.2f}s cpu" for n in names),
            flush=True,
        )

    print(f"\n{args.rounds} rounds, min – median – max")
    print(f"{'command':10s} {'wall s':>20s} {'cpu s':>20s} {'peak RSS MB':>16s}")
    for n in names:
        w, c, m = zip(*got[n], strict=True)
        print(f"{n:10s} {spread(list(w)):>20s} {spread(list(c)):>20s} {spread(list(m), '{:.0f}'):>16s}")
    print("\nratios within each round, min – median – max (wall | cpu)")
    pairs = [("ask", "bare"), ("ask", "issue")]
    if args.tree:
        pairs += [("ask@tree", "bare"), ("ask@tree", "issue"), ("ask@tree", "ask")]
    for a, b in pairs:
        wall = [x[0] / y[0] for x, y in zip(got[a], got[b], strict=True)]
        cpu = [x[1] / y[1] for x, y in zip(got[a], got[b], strict=True)]
        print(f"{a:>8s} / {b:5s}  {spread(wall)} ×  |  {spread(cpu)} ×")
    tmp.cleanup()


if __name__ == "__main__":
    main()
