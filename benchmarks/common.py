"""Shared plumbing for the benchmarks: a dedicated, migrated database, Django set up against
it, and percentile timing of callables.

Every benchmark runs against its own database (`connect_bench` by default, override with
BENCH_DATABASE_URL) on the development server, never the development database itself.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_BENCH_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/connect_bench"
# Databases a benchmark must never write to, whatever BENCH_DATABASE_URL says.
PROTECTED_DATABASES = frozenset({"connect", "postgres", "template0", "template1"})


# --- the bench database --------------------------------------------------------------------


def bench_database_url() -> str:
    """The bench database's URL: BENCH_DATABASE_URL, or `connect_bench` on the dev server.

    Refuses the development database (and the server's own databases): the benchmarks
    truncate and reseed tables.
    """
    url = os.environ.get("BENCH_DATABASE_URL") or DEFAULT_BENCH_DATABASE_URL
    name = database_name(url)
    dev_url = os.environ.get("DATABASE_URL")
    if name in PROTECTED_DATABASES or (dev_url and _same_database(url, dev_url)):
        sys.exit(
            f"Refusing to benchmark against database {name!r}: the benchmarks rewrite their "
            "database. Point BENCH_DATABASE_URL at a dedicated one (default connect_bench)."
        )
    return url


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def _same_database(a: str, b: str) -> bool:
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.hostname, pa.port or 5432, pa.path) == (pb.hostname, pb.port or 5432, pb.path)


def _maintenance_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/postgres"))


def ensure_database(url: str) -> bool:
    """Create the database if it does not exist. Returns True when it was created."""
    name = database_name(url)
    with psycopg.connect(_maintenance_url(url), autocommit=True, connect_timeout=5) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists:
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return True


def migrate(url: str) -> None:
    """Run `manage.py migrate` against the bench database, in a subprocess so that this
    process's Django is set up only once, afterwards, against the migrated schema."""
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings"}
    subprocess.run(
        [sys.executable, str(BASE_DIR / "manage.py"), "migrate", "--noinput", "-v", "0"],
        cwd=BASE_DIR,
        env=env,
        check=True,
    )


def setup_django(url: str) -> None:
    """Set Django up in this process against the bench database."""
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    if str(BASE_DIR) not in sys.path:
        sys.path.insert(0, str(BASE_DIR))
    import django

    django.setup()


def prepare_bench_database() -> str:
    """Create (if missing) and migrate the bench database, then set Django up against it.
    Returns its URL."""
    url = bench_database_url()
    created = ensure_database(url)
    print(f"database: {database_name(url)} ({'created' if created else 'exists'}), migrating")
    migrate(url)
    setup_django(url)
    return url


def vacuum_analyze(url: str, tables: Iterable[str]) -> None:
    """VACUUM (ANALYZE) after a bulk load: fresh statistics for the planner, the visibility
    map set (index-only scans) and GIN pending lists flushed, as on a settled table."""
    with psycopg.connect(url, autocommit=True) as conn:
        for table in tables:
            conn.execute(sql.SQL("VACUUM (ANALYZE) {}").format(sql.Identifier(table)))


# --- timing --------------------------------------------------------------------------------


def percentile(samples: Sequence[float], pct: float) -> float:
    """The pct-th percentile, linearly interpolated between closest ranks."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    rank = (len(ordered) - 1) * pct / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass
class Timing:
    """Wall-clock samples of one measured operation, in milliseconds."""

    name: str
    samples_ms: list[float] = field(default_factory=list)

    @property
    def p50(self) -> float:
        return percentile(self.samples_ms, 50)

    @property
    def p95(self) -> float:
        return percentile(self.samples_ms, 95)

    @property
    def p99(self) -> float:
        return percentile(self.samples_ms, 99)

    @property
    def mean(self) -> float:
        return sum(self.samples_ms) / len(self.samples_ms) if self.samples_ms else math.nan


def time_callable(
    name: str,
    fn: Callable[[], Any],
    *,
    repeat: int = 30,
    warmup: int = 3,
    after_each: Callable[[str], None] | None = None,
) -> Timing:
    """Call `fn` `warmup` times untimed, then `repeat` times timed with perf_counter."""
    return time_interleaved({name: fn}, repeat=repeat, warmup=warmup, after_each=after_each)[name]


def time_interleaved(
    cases: dict[str, Callable[[], Any]],
    *,
    repeat: int = 30,
    warmup: int = 3,
    after_each: Callable[[str], None] | None = None,
) -> dict[str, Timing]:
    """Time several callables round-robin: `warmup` untimed rounds, then `repeat` timed
    rounds calling each case once. On a shared machine a burst of someone else's load then
    spreads over every case instead of landing on whichever ran during it.

    `after_each(name)`, if given, runs after every timed call, outside the timed region
    (to collect per-call side measurements).
    """
    for _ in range(warmup):
        for fn in cases.values():
            fn()
    timings = {name: Timing(name) for name in cases}
    for _ in range(repeat):
        for name, fn in cases.items():
            start = time.perf_counter()
            fn()
            timings[name].samples_ms.append((time.perf_counter() - start) * 1000)
            if after_each is not None:
                after_each(name)
    return timings


def load_average() -> str:
    """The 1/5/15-minute load averages and the CPU count, to judge a run's conditions."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


# --- output --------------------------------------------------------------------------------


def print_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Print rows as a plain aligned table: first column left-aligned, the rest right."""
    cells = [[str(h) for h in headers]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for n, row in enumerate(cells):
        line = "  ".join(
            value.ljust(widths[i]) if i == 0 else value.rjust(widths[i])
            for i, value in enumerate(row)
        )
        print(line.rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


def result_line(**fields: object) -> str:
    """The machine-readable last line of a benchmark: `RESULT key=value key=value ...`."""
    return "RESULT " + " ".join(f"{key}={value}" for key, value in fields.items())


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.1f}"
    return str(value)


# --- bulk seeding ---------------------------------------------------------------------------


def copy_rows(cur: psycopg.Cursor[Any], model: Any, columns: str, rows: Iterable[Any]) -> int:
    """COPY rows of `columns` into the model's table; returns how many. Columns the
    generator does not know (fields added since it was written) get the model field's
    default, so the seed keeps working as the schema grows; a new NOT NULL field without a
    default fails loudly."""
    from django.db import connection
    from django.db.models import NOT_PROVIDED, DateTimeField
    from django.utils import timezone

    given = [c.strip() for c in columns.split(",")]
    extra_columns: list[str] = []
    extra_values: list[Any] = []
    for f in model._meta.concrete_fields:
        if f.column in given or f.primary_key or f.db_default is not NOT_PROVIDED:
            continue
        value = f.get_default()
        if value is None and not f.null and isinstance(f, DateTimeField):
            value = timezone.now()
        extra_columns.append(f.column)
        extra_values.append(f.get_db_prep_save(value, connection))
    extra = tuple(extra_values)
    column_list = ", ".join(given + extra_columns)
    count = 0
    with cur.copy(f"COPY {model._meta.db_table} ({column_list}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(tuple(row) + extra)
            count += 1
    return count


def drop_secondary_indexes(cur: psycopg.Cursor[Any], tables: tuple[str, ...]) -> list[str]:
    """Drop the indexes on `tables` that no constraint owns (trigram, sort and expression
    unique indexes) and return their definitions: building them once after the load is
    several times faster than maintaining them row by row. Read from the catalog, so the
    benchmarks follow whatever the migrations define."""
    rows = cur.execute(
        """
        SELECT i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
        """,
        [list(tables)],
    ).fetchall()
    for name, _definition in rows:
        cur.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
    return [definition for _name, definition in rows]
