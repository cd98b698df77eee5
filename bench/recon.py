"""Benchmark of a database-backed reconciliation: 1,000,000 balance transactions against the
matching ledger (or 10 million, in hash slices), with 500 planted discrepancies of every kind,
data already local.

1. Creates a scratch database (DATABASE_URL's server, else an embedded PostgreSQL in a
   temporary folder), migrates it, and generates the day inside PostgreSQL (recon_data.py:
   INSERT … SELECT over generate_series, so no row passes through this process): Stripe's
   rows in the local cache table, the ledger as balanced postings with their lines, the
   shape payments/bookings.py writes. `--rows` is rows a side, plants included.
2. In a fresh process (so its peak RSS is its own): the real path — COPY both sides out with
   the cache reader and the ledger loader, then `engine.reconcile` (match, classify,
   explain) — and checks every planted discrepancy is found, nothing else.
3. In another fresh process: the floor — COPY of both sides (the same two SELECTs) plus one
   pandas outer merge on the balance transaction id; and, for a day in one piece, a stricter
   floor COPYing the raw tables (postings and lines as stored, no aggregation).
4. The raw-page parse rate of `raw_pages.frame_from_pages`.

With more rows a side than --partition-rows (RECON_PARTITION_ROWS), the job that splits the
day stages its slices once (reconciliation/staging.py; `--read-by-index`: the earlier path,
only a plan of moves, slices read by index), then steps 2 and 3 run per hash slice
(reconciliation/slices.py), each slice in its own process as a partition job would: times
summed (plan included), peak RSS per process, and the time per million rows; with
`--workers N`, N slices at a time as on N worker processes, and the elapsed time as well.
`--baseline-rows 1000000` measures the kept 1M day in one piece before, during and after the
slices and gives the ratio to it from the same minutes. The staging
tables are dropped at the end (the bench adds no result to its run, which it marks failed).

`--prepare` only generates the day into a database kept on DATABASE_URL's server (named
after --rows and --planted); `--prepared` then measures on it, so that a timing of record
holds the shared lock for the measurement only.

    python bench/recon.py [--rows 1000000] [--planted 500] [--partition-rows 1000000]
        [--prepare | --prepared [--baseline-rows 1000000]] [--workers 1] [--read-by-index]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).parent))
import recon_core_bench as core  # noqa: E402
import recon_data  # noqa: E402
import support_path  # noqa: E402, F401  (tests/support on sys.path)
from scratch_databases import scratch_database, server_url  # noqa: E402

from config import load_settings  # noqa: E402
from models.db import make_session_factory, transaction  # noqa: E402
from models.migrate import upgrade  # noqa: E402
from reconciliation import runs, staging, stripe_cache  # noqa: E402
from reconciliation.engine import reconcile  # noqa: E402
from reconciliation.frames import LEDGER_COLUMNS, STRIPE_COLUMNS  # noqa: E402
from reconciliation.ledger_source import (  # noqa: E402
    ledger_query,
    load_ledger_frame,
    plan_slices,
)
from reconciliation.pgcopy import copy_out  # noqa: E402
from reconciliation.raw_pages import frame_from_pages  # noqa: E402
from reconciliation.slices import Slice, slice_count  # noqa: E402
from reconciliation.window import day  # noqa: E402

DAY = "2026-03-10"
MARGIN_S = 6 * 3600


def peak_rss_mb() -> float:
    """This process's peak RSS. VmHWM belongs to the address space, which exec replaces;
    ru_maxrss would carry the parent's peak over into a child started with fork+exec."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- measured halves (each in a fresh process) ---------------------------------------------


def measure_plan(url: str, parts: int, by_index: bool) -> dict[str, object]:
    """What the job that splits the day does once: create the run and stage its slices
    (reconciliation/staging.py), or with `by_index` only plan the moves
    (ledger_source.plan_slices) for slices read by index."""
    window = day(DAY, "UTC")
    start, end = window.start - MARGIN_S, window.end + MARGIN_S
    sessions = make_session_factory(create_engine(url))
    started = time.perf_counter()
    if by_index:
        with sessions() as session:
            plan = plan_slices(session, "platform", start, end, parts)
    else:
        with transaction(sessions) as session:
            run_id = runs.start_run(
                session, window, "platform", source="cache", partitions=parts
            ).id
        plan = staging.stage(sessions, run_id, "platform", start, end, parts)
    return {"plan": plan.to_message(), "total_s": time.perf_counter() - started}


def drop_staged(url: str, run_id: int) -> None:
    """The bench adds no result to its run: fail it and drop its staging tables."""
    sessions = make_session_factory(create_engine(url))
    with transaction(sessions) as session:
        runs.fail_run(session, run_id, "benchmark run (bench/recon.py)")
    with transaction(sessions) as session:
        staging.drop_run(session, run_id)


def _part(plan_file: str | None, index: int) -> Slice | None:
    if plan_file is None:
        return None
    return Slice.from_message(json.loads(Path(plan_file).read_text())).at(index)


def measure_real(url: str, plan_file: str | None, index: int) -> dict[str, object]:
    window = day(DAY, "UTC")
    sessions = make_session_factory(create_engine(url))
    started = time.perf_counter()
    with sessions() as session:
        part = _part(plan_file, index)
        stripe = stripe_cache.load(
            session, "platform", window.start - MARGIN_S, window.end + MARGIN_S, part=part
        )
        stripe_s = time.perf_counter() - started
        ledger = load_ledger_frame(
            session, "platform", window.start - MARGIN_S, window.end + MARGIN_S, part=part
        )
    load_s = time.perf_counter() - started
    result = reconcile(stripe, ledger, window, margin_s=MARGIN_S)
    total_s = time.perf_counter() - started
    return {
        "stripe_load_s": stripe_s,
        "ledger_load_s": load_s - stripe_s,
        "match_s": total_s - load_s,
        "total_s": total_s,
        "stripe_rows": len(stripe),
        "ledger_rows": len(ledger),
        "found": dict(Counter(d.kind for d in result.discrepancies)),
        "counts": result.counts.to_dict(),
        "rss_mb": peak_rss_mb(),
    }


def measure_floor(url: str, plan_file: str | None, index: int) -> dict[str, object]:
    """COPY of the same SELECTs (of the same slice) + one outer merge; for the day in one
    piece also the stricter floor of the raw tables."""
    window = day(DAY, "UTC")
    start, end = window.start - MARGIN_S, window.end + MARGIN_S
    sessions = make_session_factory(create_engine(url))
    started = time.perf_counter()
    with sessions() as session:
        part = _part(plan_file, index)
        stripe = copy_out(
            session, stripe_cache.cache_query("platform", start, end, part=part), STRIPE_COLUMNS
        )
        ledger = copy_out(session, ledger_query("platform", start, end, part=part), LEDGER_COLUMNS)
    merged = stripe.merge(ledger, on="balance_transaction", how="outer", indicator=True)
    same_sql_s = time.perf_counter() - started
    del stripe, ledger, merged
    if part is not None:
        return {"same_sql_s": same_sql_s, "rss_mb": peak_rss_mb()}

    started = time.perf_counter()
    with sessions() as session:
        from psycopg import sql

        from reconciliation.frames import INT, TEXT, Column

        stripe = copy_out(session, stripe_cache.cache_query("platform", start, end), STRIPE_COLUMNS)
        postings = copy_out(
            session,
            sql.SQL(
                "SELECT id, stripe_balance_transaction, extract(epoch FROM occurred_at)::bigint"
                " FROM ledger_postings WHERE occurred_at >= to_timestamp({}) AND"
                " occurred_at < to_timestamp({})"
            ).format(sql.Literal(start), sql.Literal(end)),
            (Column("id", INT), Column("balance_transaction", TEXT, True), Column("t", INT)),
        )
        lines = copy_out(
            session,
            sql.SQL("SELECT posting_id, amount FROM ledger_lines"),
            (Column("posting_id", INT), Column("amount", INT)),
        )
    merged = stripe.merge(postings, on="balance_transaction", how="outer", indicator=True)
    raw_s = time.perf_counter() - started
    return {
        "same_sql_s": same_sql_s,
        "raw_tables_s": raw_s,
        "lines": len(lines),
        "rss_mb": peak_rss_mb(),
        "merged": len(merged),
    }


def both_halves(
    url: str, plan_file: str | None, parts: int, baseline: Baseline | None = None, workers: int = 1
) -> tuple[dict[str, object], dict[str, object]]:
    """Every slice in its own fresh process, as partition jobs on workers would run them: one
    after the other, or `workers` at a time (the real path of every slice, then every
    floor); a line printed per slice. The baseline day, when given, is measured again
    halfway and after the last slice (after all of them with several workers)."""
    real: list[dict[str, object]] = []
    floor: list[dict[str, object]] = []
    if workers > 1:
        real, real_s = _at_once("real", url, plan_file, parts, workers)
        floor, floor_s = _at_once("floor", url, plan_file, parts, workers)
    for i in range(parts):
        if workers == 1:
            real.append(child("real", url, plan_file, i))
            floor.append(child("floor", url, plan_file, i))
        if parts > 1:
            print(
                f"  slice {i + 1}/{parts}: {real[i]['stripe_rows']:,} Stripe rows, "
                f"{real[i]['ledger_rows']:,} postings; real {real[i]['total_s']:.2f} s "
                f"(Stripe {real[i]['stripe_load_s']:.2f} + ledger {real[i]['ledger_load_s']:.2f}"
                f" + match {real[i]['match_s']:.2f}), floor {floor[i]['same_sql_s']:.2f} s; "
                f"RSS {real[i]['rss_mb']:,.0f} MB",
                flush=True,
            )
        if baseline is not None and i + 1 in ((parts // 2, parts) if workers == 1 else (parts,)):
            baseline.measure()
    real_total, floor_total = summed(real), summed(floor)
    if workers > 1:
        real_total["elapsed_s"], floor_total["elapsed_s"] = real_s, floor_s
    return real_total, floor_total


def _at_once(
    mode: str, url: str, plan_file: str | None, parts: int, workers: int
) -> tuple[list[dict[str, object]], float]:
    """Every slice's `mode` half, `workers` processes at a time; and the time from the first
    start to the last end."""
    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        done = list(pool.map(lambda i: child(mode, url, plan_file, i), range(parts)))
    return done, time.perf_counter() - started


class Baseline:
    """The day of `rows` rows (kept by --prepare, run in one piece) measured between the
    steps of a sliced run, so that the time per million is compared with 1M runs made in
    the same minutes: this machine's speed drifts by 15 % or more within an hour."""

    def __init__(self, url: str, rows: int) -> None:
        self.url, self.rows = url, rows
        self.times: list[float] = []

    def measure(self) -> None:
        total = float(child("real", self.url, None, 0)["total_s"])  # type: ignore[arg-type]
        self.times.append(total)
        print(f"  baseline: the {self.rows:,}-row day in one piece, real {total:.2f} s", flush=True)

    def per_million(self) -> float:
        return statistics.median(self.times) / (self.rows / 1_000_000)


def summed(pieces: list[dict[str, object]]) -> dict[str, object]:
    """Times and counts of the slices summed, peak RSS the largest slice's."""
    total: dict[str, object] = dict(pieces[0])
    for piece in pieces[1:]:
        for key, value in piece.items():
            if key == "rss_mb":
                total[key] = max(float(total[key]), float(value))  # type: ignore[arg-type]
            elif isinstance(value, dict):
                merged = Counter(total[key])  # type: ignore[arg-type]
                merged.update(value)
                total[key] = dict(merged)
            elif isinstance(value, int | float):
                total[key] = total[key] + value  # type: ignore[operator]
    total["slice_rss_mb"] = [piece["rss_mb"] for piece in pieces]
    return total


def child(mode: str, url: str, plan_file: str | None, index: int, *extra: str) -> dict[str, object]:
    slice_args = ["--part", str(index), *extra] + (["--plan", plan_file] if plan_file else [])
    output = subprocess.run(
        [sys.executable, __file__, "--measure", mode, "--url", url, *slice_args],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


# --- main ----------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--planted", type=int, default=500, help="discrepancies per kind")
    parser.add_argument("--page-rows", type=int, default=200_000)
    parser.add_argument(
        "--partition-rows",
        type=int,
        default=1_000_000,
        help="rows a side per hash slice, as RECON_PARTITION_ROWS (default 1,000,000)",
    )
    parser.add_argument(
        "--prepare",
        action="store_true",
        help="only generate the day into a kept database (DATABASE_URL's server), for --prepared",
    )
    parser.add_argument(
        "--prepared", action="store_true", help="measure on the day --prepare kept (same --rows)"
    )
    parser.add_argument(
        "--baseline-rows",
        type=int,
        help="with --prepared and slices: also measure the day of this many rows (kept by"
        " --prepare) in one piece before, halfway through and after the slices, and give the"
        " time per million against the median of those runs",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="slices run this many at a time (as partition jobs on that many worker processes);"
        " the time per million is then the elapsed time, build included (default 1: one after"
        " the other, summed)",
    )
    parser.add_argument(
        "--read-by-index",
        action="store_true",
        help="slices read by index with planned moves (the path before staging), to compare",
    )
    parser.add_argument("--measure", choices=["real", "floor", "plan"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--plan", help=argparse.SUPPRESS)
    parser.add_argument("--part", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.baseline_rows and not args.prepared:
        parser.error("--baseline-rows needs --prepared (both days kept by --prepare)")
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    if args.measure == "plan":
        print(json.dumps(measure_plan(args.url, args.part, args.read_by_index)))
        return 0
    if args.measure:
        measure = measure_real if args.measure == "real" else measure_floor
        print(json.dumps(measure(args.url, args.plan, args.part)))
        return 0

    overall = time.perf_counter()
    if args.prepare or args.prepared:
        url = kept_database(args)
        if args.prepare:
            prepare(url, args)
            return 0
        with tempfile.TemporaryDirectory(prefix="midway_bench_") as tmp:
            return run(url, args, overall, tmp)
    with tempfile.TemporaryDirectory(prefix="midway_bench_") as tmp:
        with scratch_database(server_url(Path(tmp)), "midway_bench_recon") as url:
            prepare(url, args)
            return run(url, args, overall, tmp)


def kept_database(args: argparse.Namespace, rows: int | None = None) -> str:
    """The database --prepare fills and --prepared reads, named after the day's size
    (`rows`, else --rows)."""
    server = load_settings().database_url
    if not server:
        raise SystemExit("--prepare / --prepared need DATABASE_URL (a server that keeps it)")
    name = f"midway_bench_recon_{rows or args.rows}_{args.planted}"
    return make_url(server).set(database=name).render_as_string(hide_password=False)


def prepare(url: str, args: argparse.Namespace) -> None:
    """Create (afresh, when kept), migrate and fill the bench's database."""
    if args.prepare:
        admin = create_engine(load_settings().database_url or "", isolation_level="AUTOCOMMIT")
        name = make_url(url).database
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    upgrade(url)
    window = day(DAY, "UTC")
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    started = time.perf_counter()
    steps = recon_data.generate(dsn, args.rows, args.planted, window.start, window.end)
    print(
        f"generated {args.rows:,} Stripe rows and {args.rows:,} postings "
        f"({args.planted} planted per kind) in PostgreSQL in {time.perf_counter() - started:.1f} s"
        f" (this process's peak RSS {peak_rss_mb():,.0f} MB)"
    )
    for what, seconds in steps.items():
        print(f"  {what}: {seconds:.1f} s")
    print(
        "  (ledger triggers skipped while loading: session_replication_role = replica, in "
        "this database only)"
    )


def run(url: str, args: argparse.Namespace, overall: float, tmp: str) -> int:
    expected = recon_data.expected(args.planted)
    rows = args.rows
    print("load average at start: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    parts = slice_count(rows, args.partition_rows)
    print(
        f"{parts} hash slice(s) of <= ~{args.partition_rows:,} rows a side, each in its own process"
    )

    plan_file, plan_s, staged = None, 0.0, None
    baseline = None
    if parts > 1 and args.baseline_rows:
        baseline = Baseline(kept_database(args, args.baseline_rows), args.baseline_rows)
        baseline.measure()
    if parts > 1:
        by_index = ["--read-by-index"] if args.read_by_index else []
        plan = child("plan", url, None, parts, *by_index)  # the split job's one pass
        plan_s = float(plan["total_s"])  # type: ignore[arg-type]
        plan_file = str(Path(tmp) / "plan.json")
        Path(plan_file).write_text(json.dumps(plan["plan"]))
        staged = plan["plan"]["staged"]  # type: ignore[index]
        moved = len(plan["plan"]["moved"])  # type: ignore[index]
        stripe_moved = len(plan["plan"]["stripe_moved"])  # type: ignore[index]
        what = (
            f"staged both sides into {parts} tables each"
            if staged is not None
            else f"{moved:,} moved postings, {stripe_moved:,} moved Stripe rows"
        )
        print(f"plan (once, in the job that splits the day): {plan_s:.2f} s, {what}")
    try:
        real, floor = both_halves(url, plan_file, parts, baseline, args.workers)
    finally:
        if staged is not None:
            drop_staged(url, int(staged))
    real["total_s"] = float(real["total_s"]) + plan_s  # type: ignore[arg-type]
    found = Counter(real["found"])  # type: ignore[arg-type]
    print(
        f"\nreal: load {real['stripe_rows']:,} Stripe rows {real['stripe_load_s']:.2f} s + "
        f"{real['ledger_rows']:,} postings {real['ledger_load_s']:.2f} s (COPY), "
        f"match+classify+explain {real['match_s']:.2f} s = {real['total_s']:.2f} s"
    )
    print(
        f"floor (COPY of both sides, same SELECTs, + one outer merge): {floor['same_sql_s']:.2f} s"
    )
    if staged is not None:
        print(
            f"  (of staged slices; with the staging build: "
            f"{float(floor['same_sql_s']) + plan_s:.2f} s)"  # type: ignore[arg-type]
        )
    # Both include the split step (the floor's slices read what it staged or planned).
    floor_s = float(floor["same_sql_s"]) + plan_s  # type: ignore[arg-type]
    ratio = float(real["total_s"]) / floor_s  # type: ignore[arg-type]
    print(f"ratio real / floor: {ratio:.2f}x (aim <= 1.5x)")
    if "raw_tables_s" in floor:
        strict = float(real["total_s"]) / float(floor["raw_tables_s"])  # type: ignore[arg-type]
        print(
            f"floor (COPY of raw postings and lines, no aggregation, + one outer merge): "
            f"{floor['raw_tables_s']:.2f} s; real against it {strict:.2f}x"
        )
    per_million = float(real["total_s"]) / (rows / 1_000_000)  # type: ignore[arg-type]
    print(
        f"per million rows: real {per_million:.2f} s, floor "
        f"{float(floor['same_sql_s']) / (rows / 1_000_000):.2f} s"  # type: ignore[arg-type]
    )
    if "elapsed_s" in real:
        elapsed = float(real["elapsed_s"]) + plan_s  # type: ignore[arg-type]
        print(
            f"on {args.workers} workers at once: {elapsed:.2f} s from the build's start to the "
            f"last slice's end = {elapsed / (rows / 1_000_000):.2f} s per million (floor's slices "
            f"at once {float(floor['elapsed_s']):.2f} s); the summed figures above add the "  # type: ignore[arg-type]
            f"slices' own times, each slowed by the {args.workers - 1} beside it"
        )
    if baseline is not None:
        print(
            f"against the {baseline.rows:,}-row day in one piece (median of "
            f"{len(baseline.times)}: {baseline.per_million():.2f} s per million): "
            f"{per_million / baseline.per_million():.2f}x summed (aim <= 1.2x)"
            + (
                f", {elapsed / (rows / 1_000_000) / baseline.per_million():.2f}x on "
                f"{args.workers} workers"
                if "elapsed_s" in real
                else ""
            )
        )
    slices_rss = ", ".join(f"{mb:,.0f}" for mb in real["slice_rss_mb"])  # type: ignore[attr-defined]
    print(
        f"peak RSS per partition process: max {real['rss_mb']:,.0f} MB (aim < 1,536) "
        f"[{slices_rss}]; floor {floor['rss_mb']:,.0f} MB"
    )
    print(f"counts: {real['counts']}")
    for kind in sorted(expected | found):
        flag = "" if found[kind] == expected[kind] else "   <-- differs"
        print(f"  {kind:20s} planted {expected[kind]:6,d} found {found[kind]:6,d}{flag}")

    pages = core.raw_pages(args.page_rows)
    started = time.perf_counter()
    parsed = frame_from_pages(pages, account="platform")
    parse_s = time.perf_counter() - started
    print(
        f"raw-page parse: {len(parsed):,} rows in {parse_s:.2f} s = "
        f"{len(parsed) / parse_s:,.0f} rows/s (aim >= 100,000)"
    )
    print("load average at end: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    print(f"whole benchmark: {time.perf_counter() - overall:.0f} s")
    return 0 if found == expected else 1


if __name__ == "__main__":
    sys.exit(main())
