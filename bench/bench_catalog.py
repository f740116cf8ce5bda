"""Real catalogues (issue 11): colloquial questions about imported items, the spec dev set beside 1,135 real
items, importing a 5,000-row workbook, and reloading a 5,000-item base while questions keep arriving.

The 广安区 catalogue (../shared/research-data/guangan-zwfw-items/bszl-data.json, names and departments only) is
read in place and imported at run time into temporary bases (never copied into the project):
  - "catalogue only": the shipped frame (departments, centre, SLA…) plus the 1,135 imported items, as a county
    that replaces the example base would run;
  - "merged": the shipped example base (146 entries) plus the 1,135 items.

Sets (one question a line, {"text", "expect": [exact item names], "family": bool}):
  - bench/data/dev_guangan.jsonl and dev3_guangan.jsonl: our own development questions (dev3 about other items
    than dev, written before any output was seen), tuned on (errors may be printed: --errors);
  - bench/data/blind_guangan.jsonl: written blind by a teammate; only aggregate figures are printed, never a
    line (--blind).
A line is right when the answer is one of `expect` (family false), or when it is a clarifying question whose
choices include every name of `expect` (family true). "Partly right" also counts a family question answered with
one of its members, or a clarification that lists only some of them.

Run (from the repository root, in the virtualenv):
    python bench/bench_catalog.py                 # dev set on both bases, dev-set figures of the spec set
    python bench/bench_catalog.py --blind         # also the blind set (aggregate figures only)
    python bench/bench_catalog.py --import-rows 5000   # time importing a generated 5,000-row workbook
    python bench/bench_catalog.py --reload 5000   # time reloading a 5,000-item base under questions
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SHARED = ROOT.parent / "shared"
GUANGAN = SHARED / "research-data" / "guangan-zwfw-items" / "bszl-data.json"
DEVSET = SHARED / "spec" / "devset.jsonl"
DEV = ROOT / "bench" / "data" / "dev_guangan.jsonl"
# the second development set (issue 11, round 3): other items of the catalogue, written before any output was seen
DEV3 = ROOT / "bench" / "data" / "dev3_guangan.jsonl"
BLIND = ROOT / "bench" / "data" / "blind_guangan.jsonl"


def build_bases(tmp: Path) -> dict[str, Path]:
    """The two bases, imported now from the catalogue in ../shared."""
    import datetime as dt

    from bot.core.knowledge.catalog import apply_import, plan_import
    from bot.core.resources import data_dir

    out = {}
    only = tmp / "catalogue-only"
    merged = tmp / "merged"
    shutil.copytree(data_dir("knowledge"), merged)
    for name, into in (("catalogue only", only), ("merged", merged)):
        plan = plan_import(GUANGAN, into, today=dt.date(2026, 11, 26))
        if plan.errors:
            raise SystemExit("\n".join(plan.errors))
        apply_import(plan)
        out[name] = into
    return out


def answering_for(base: Path):  # noqa: ANN201
    from bot.app import DataPaths, load_answering
    from bot.settings import Settings

    return load_answering(DataPaths.resolve(Settings.load(env_file=None, knowledge_dir=base)))


def score_set(answering, rows: list[dict]) -> tuple[dict, list[tuple[dict, str]]]:  # noqa: ANN001
    from bot.core.answering.evaluate import make_dialogue

    kb = answering.kb
    by_name: dict[str, set[str]] = {}
    for e in kb.entries.values():
        by_name.setdefault(e.name, set()).add(e.id)
    # an imported item that an entry written by hand already holds is answered by that entry (the same 事项)
    for dup, owner in getattr(answering.matcher, "duplicates", {}).items():
        by_name[kb.get(dup).name].add(owner)
    dialogue = make_dialogue(answering)
    counts: Counter = Counter()
    errors: list[tuple[dict, str]] = []
    for n, row in enumerate(rows):
        want = set().union(*(by_name.get(x, set()) for x in row["expect"]))
        missing = [x for x in row["expect"] if x not in by_name]
        if missing:
            raise SystemExit(f"line {n + 1}: names not in the base: {missing}")
        res = dialogue.respond(f"q{n}", row["text"])
        u = res.understanding
        got = u.target if (u is not None and res.answered and u.intent in ("item", "exemption")) else None
        shown = set(res.clarified)
        fam = bool(row.get("family"))
        counts["lines"] += 1
        counts["family lines" if fam else "single lines"] += 1
        if fam:
            right = bool(shown) and all(by_name[x] & shown for x in row["expect"])
            partly = right or (got in want) or len(shown & want) >= 2
        else:
            right = got in want
            partly = right or bool(shown & want)
        counts["right"] += right
        counts["partly"] += partly
        counts["family right" if fam else "single right"] += right
        if got is not None and got not in want:
            counts["wrong answer"] += 1
        if got is None and not shown:
            counts["no answer"] += 1
        if shown:
            counts["clarified"] += 1
        if not right:
            what = (
                f"answer {kb.get(got).name}"
                if got
                else f"asked {[kb.get(i).name for i in res.clarified]}"
                if shown
                else (u.intent if u else "-")
            )
            errors.append((row, what))
    return counts, errors


def pct(a: int, b: int) -> str:
    return f"{100.0 * a / b:.1f}%" if b else "n/a"


def report_set(label: str, base: str, counts: Counter) -> None:
    n = counts["lines"]
    print(
        f"{label:<8} {base:<15} right {pct(counts['right'], n)} ({counts['right']}/{n}); "
        f"single {pct(counts['single right'], counts['single lines'])}, "
        f"family {pct(counts['family right'], counts['family lines'])}; partly {pct(counts['partly'], n)}; "
        f"wrong answers {pct(counts['wrong answer'], n)}; no answer {pct(counts['no answer'], n)}; "
        f"clarified {pct(counts['clarified'], n)}"
    )


def run_sets(args: argparse.Namespace) -> None:
    from bot.core.answering.evaluate import evaluate, read_jsonl

    tmp = Path(tempfile.mkdtemp(prefix="bench-catalog-"))
    try:
        t = time.perf_counter()
        bases = build_bases(tmp)
        print(f"imported the catalogue into two bases in {time.perf_counter() - t:.1f} s")
        sets = [("dev", DEV), ("dev3", DEV3)] + ([("blind", BLIND)] if args.blind else [])
        for base_name, base in bases.items():
            t = time.perf_counter()
            answering = answering_for(base)
            print(
                f"\n[{base_name}] {len(answering.kb.entries)} entries, loaded and indexed in {time.perf_counter() - t:.1f} s"
            )
            for label, path in sets:
                if not path.exists():
                    print(f"{label}: {path} not found")
                    continue
                rows = [
                    json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
                ]
                counts, errors = score_set(answering, rows)
                report_set(label, base_name, counts)
                if args.errors and label.startswith("dev"):
                    for row, what in errors:
                        print(
                            f"   - {row['text']} | want {row['expect'][:3]}{' (family)' if row.get('family') else ''} | {what}"
                        )
            if base_name == "merged" and DEVSET.exists():
                rep = evaluate(answering, read_jsonl(DEVSET)).as_dict()
                print(
                    f"spec devset on the merged base: top-1 {rep['target_top1']:.1%}, wrong answers "
                    f"{rep['wrong_answer_rate']:.1%}, unknown rejected {rep['unknown_rejected']:.1%}"
                )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# -- import -----------------------------------------------------------------------------------------------
def make_workbook(path: Path, rows: int, seed: int = 7) -> None:
    """A workbook of `rows` items with every column filled the way real guides are: the 广安区 names (with
    variants and districts to reach the size), several materials, conditions and steps per item."""
    import datetime as dt

    from openpyxl import Workbook

    from bot.core.knowledge.catalog import EXPORT_FIELDS
    from bot.core.knowledge.sheets import HEADER

    rnd = random.Random(seed)
    names = []
    for dep in json.loads(GUANGAN.read_text(encoding="utf-8")):
        for main in dep["items"]:
            for sub in main["sub_items"]:
                names.append((sub["name"], dep["department"]))
    districts = ["", "前锋区", "岳池县", "武胜县", "邻水县", "华蓥市"]
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("事项")
    ws.append([HEADER[f] for f in EXPORT_FIELDS])
    for i in range(rows):
        name, dept = names[i % len(names)]
        district = districts[(i // len(names)) % len(districts)]
        ws.append(
            [
                {
                    "code": f"5116{i:08d}-XK",
                    "name": f"{name}（{district}）" if district else name,
                    "family": "",
                    "department": f"{district}{dept}" if district else dept,
                    "item_type": rnd.choice(["行政许可", "公共服务", "行政确认", "其他行政权力"]),
                    "audience": rnd.choice(["自然人", "法人", "自然人、法人"]),
                    "summary": f"{name}的办事指南。",
                    "aliases": "",
                    "keywords": "",
                    "conditions": "\n".join(f"符合第{j + 1}项条件的申请人" for j in range(rnd.randint(1, 4))),
                    "materials": "\n".join(
                        f"申请材料{j + 1}（{rnd.choice(['原件', '复印件', '原件及复印件'])} {rnd.randint(1, 3)}份）"
                        for j in range(rnd.randint(2, 8))
                    ),
                    "legal_limit": f"{rnd.choice([5, 10, 20, 30])}个工作日",
                    "promised_limit": rnd.choice(["即办", "1个工作日", "3个工作日", "5个工作日"]),
                    "charged": "否",
                    "fee": "",
                    "fee_basis": "",
                    "place": "广安区政务服务中心",
                    "hours": "工作日 9:00-12:00，13:30-17:00",
                    "phone": f"0826-{rnd.randint(2000000, 2999999)}",
                    "online": rnd.choice(["是", "否", "全程网办"]),
                    "channel": "四川政务服务网",
                    "url": "https://www.sczwfw.gov.cn",
                    "guide_url": "",
                    "process": "申请\n受理\n审查\n决定\n送达",
                    "visits": rnd.choice([0, 1]),
                    "commitment": rnd.choice(["是", "否"]),
                    "tolerance": rnd.choice(["是", "否"]),
                    "legal_basis": "《中华人民共和国行政许可法》",
                    "updated": dt.date(2026, 10, 1),
                }[f]
                for f in EXPORT_FIELDS
            ]
        )
    wb.save(path)


def run_import(rows: int, runs: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-import-"))
    try:
        book = tmp / f"catalogue-{rows}.xlsx"
        t = time.perf_counter()
        make_workbook(book, rows)
        print(
            f"generated {book.name} ({book.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - t:.1f} s"
        )
        times = []
        for r in range(runs):
            into = tmp / f"base{r}"
            shutil.copytree(ROOT / "knowledge", into)
            t = time.perf_counter()
            # the real command, progress bar and all (stderr shown once)
            done = subprocess.run(
                [sys.executable, "-m", "bot", "kb", "import", str(book), "--into", str(into)],
                cwd=ROOT,
                capture_output=True,
                text=True,
            )
            times.append(time.perf_counter() - t)
            if done.returncode != 0:
                print(done.stdout, done.stderr)
                raise SystemExit("import failed")
            if r == 0:
                print(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "(no progress output)")
                print(done.stdout.splitlines()[0])
        print(
            f"kb import of {rows:,} rows (whole command, interpreter start included): "
            f"median {statistics.median(times):.2f} s, min {min(times):.2f}, max {max(times):.2f} over {runs} runs"
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# -- reload -----------------------------------------------------------------------------------------------
async def _ask(app, k: int, questions: list[str], stop, lat: list[float], answered: list[int]) -> None:  # noqa: ANN001
    from bot.core.messages import Incoming

    n = 0
    while not stop.is_set():
        t = time.perf_counter()
        replies = await app.assistant.handle(Incoming(f"u{k}", f"u{k}", text=questions[n % len(questions)]))
        lat.append(time.perf_counter() - t)
        answered.append(int(bool(replies)))
        n += 1
        await asyncio.sleep(0.005)


def run_reload(rows: int, runs: int) -> None:
    """Reload a base of the shipped entries plus `rows` imported items while a stream of questions keeps
    arriving; every question must be answered, each by the old or the new base whole."""
    from bot.app import App, DataPaths, build
    from bot.settings import Settings

    tmp = Path(tempfile.mkdtemp(prefix="bench-reload-"))
    try:
        book = tmp / "catalogue.xlsx"
        make_workbook(book, rows)
        base = tmp / "base"
        shutil.copytree(ROOT / "knowledge", base)
        subprocess.run(
            [sys.executable, "-m", "bot", "kb", "import", str(book), "--into", str(base)],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )

        async def go() -> None:
            settings = Settings.load(env_file=None, knowledge_dir=base, database_path=tmp / "db.sqlite")
            cpu = time.process_time()
            app: App = await build(settings)
            # CPU seconds, which the machine's load does not inflate as it does wall time
            print(f"start-up with the base (first parse of its files): {time.process_time() - cpu:.2f} s CPU")
            try:
                cpu = time.process_time()
                result = await app.reload()
                print(
                    f"reload with no question arriving: {time.process_time() - cpu:.2f} s CPU "
                    f"({'ok' if result.ok else result.problems[:3]})"
                )
                questions = ["护照怎么办", "食品经营许可要什么材料", "社保卡丢了怎么补", "营业执照注销在哪办"]
                for r in range(runs):
                    stop = asyncio.Event()
                    lat: list[float] = []
                    answered: list[int] = []
                    tasks = [
                        asyncio.create_task(_ask(app, k, questions, stop, lat, answered)) for k in range(4)
                    ]
                    await asyncio.sleep(0.2)
                    t = time.perf_counter()
                    result = await app.reload()
                    took = time.perf_counter() - t
                    stop.set()
                    await asyncio.gather(*tasks)
                    print(
                        f"reload {r + 1}: {took:.2f} s ({'ok' if result.ok else result.problems[:3]}), "
                        f"{len(app.answering.kb.entries):,} entries; {len(answered)} questions answered meanwhile "
                        f"(every one: {sum(answered) == len(lat)}), p50 {statistics.median(lat) * 1000:.1f} ms, "
                        f"max {max(lat) * 1000:.0f} ms"
                    )
            finally:
                await app.aclose()

        _ = DataPaths
        asyncio.run(go())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--blind", action="store_true", help="also the blind set (aggregate figures only)")
    ap.add_argument("--errors", action="store_true", help="list the dev set's misses")
    ap.add_argument(
        "--import-rows", type=int, default=0, help="time importing a generated workbook of N rows"
    )
    ap.add_argument("--reload", type=int, default=0, help="time reloading a base of N imported items")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    if not GUANGAN.exists():
        raise SystemExit(f"skipped: {GUANGAN} is not present (the catalogue is read in place from ../shared)")
    if args.import_rows:
        run_import(args.import_rows, args.runs)
    if args.reload:
        run_reload(args.reload, args.runs)
    if not args.import_rows and not args.reload:
        run_sets(args)


if __name__ == "__main__":
    main()
