"""Benchmark the tracking redirect (GET /r/<code>) against a trivial view on the production
server, and check that every click it answered reaches PostgreSQL.

    make bench-redirect                  # or: .venv/bin/python benchmarks/bench_redirect.py
    .venv/bin/python benchmarks/bench_redirect.py --duration 30 --slice 5 --connections 64

Starts gunicorn exactly as the Procfile's `web` line does (DEBUG=false, a random
SECRET_KEY, ALLOWED_HOSTS=127.0.0.1, SECURE_SSL_REDIRECT=false) on a free loopback port,
against its own migrated database (`connect_bench_redirect`, or BENCH_REDIRECT_DATABASE_URL)
and its own Redis database (BENCH_REDIS_URL, default redis://127.0.0.1:6379/14). wrk drives
`/r/<code>` over a few hundred seeded collaborations and `/robots.txt` (the floor) on the same
server with the same script, in alternating slices of a few seconds (so that load from other
processes on the machine falls on both alike), while this process flushes the click buffer
every 5 s as beat would. After the runs it flushes until the buffer is empty and counts the rows.

Counting exactly: wrk abandons the requests in flight when its time is up, yet the server
may already have recorded their clicks. So the script stops sending to the measured path
after `--duration` seconds and spends one more second on /robots.txt: every redirect it sent
has its answer by then, and `clicks_sent` is exactly the redirects wrk sent and got answered.

The last line is machine-readable:

    RESULT redirect_rps=<n> trivial_rps=<n> ratio=<redirect/trivial> p99_ms=<n>
        clicks_sent=<n> clicks_stored=<n> lost=<sent-stored>
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import re
import secrets
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import redis
from common import (
    BASE_DIR,
    bench_database_url,
    database_name,
    ensure_database,
    load_average,
    migrate,
    print_table,
    result_line,
    setup_django,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/connect_bench_redirect"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
BRAND_SLUG = "bench-redirect"
BROWSER_USER_AGENT = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
TRIVIAL_PATH = "/robots.txt"
DRAIN_SECONDS = 1
FLUSH_INTERVAL_SECONDS = 5.0
# Runs of a slice at most, while one gunicorn worker holds nearly all connections.
MAX_ATTEMPTS = 8
PAUSE_SECONDS = 1.0

# wrk's Lua (LuaJIT): requests go to a random path of the list until `active` seconds have
# passed, then to the drain path; each thread counts what it sent to the list.
# (`%%` is a literal percent sign: the script is a Python %-format.)
WRK_SCRIPT = r"""
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_usec; } bench_timeval;
int gettimeofday(bench_timeval *tv, void *tz);
]]
local tv = ffi.new("bench_timeval")
local function now()
  ffi.C.gettimeofday(tv, nil)
  return tonumber(tv.tv_sec) + tonumber(tv.tv_usec) / 1e6
end

wrk.headers["User-Agent"] = "%(user_agent)s"
wrk.headers["Accept"] = "text/html,application/xhtml+xml"
wrk.headers["Referer"] = "https://www.instagram.com/"

local threads = {}
function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  paths = {}
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  stop_at = now() + tonumber(args[2])
  drain = wrk.format("GET", args[3])
  sent = 0
  math.randomseed(id * 7919)
end

function request()
  -- wrk calls request() once before the run to check the script (script_verify_request)
  -- and discards that request; so each thread's first one goes uncounted to the drain path.
  if not started then
    started = true
    return drain
  end
  if now() < stop_at then
    sent = sent + 1
    return wrk.format("GET", paths[math.random(#paths)])
  end
  return drain
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("sent") end
  local e = summary.errors
  io.write(string.format(
    "BENCH sent=%%d p50_us=%%d p99_us=%%d errors=%%d\n",
    total, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout))
end
"""


@dataclass
class Run:
    """One wrk run: requests answered on the measured path over its active seconds."""

    name: str
    sent: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    server_cpu_s: float  # gunicorn's master and workers, over the active seconds
    redis_cpu_s: float
    worker_cpu_s: list[float]

    @property
    def rps(self) -> float:
        return self.sent / self.seconds

    @property
    def balanced(self) -> bool:
        """Whether every gunicorn worker served a fair part of the load.

        wrk opens its connections at once and keeps them alive; gunicorn's gthread workers
        each keep the connections they accepted, and now and then one worker accepts nearly
        all of them. The other then idles and the run measures one process (one core, by
        the GIL) instead of the server.
        """
        if len(self.worker_cpu_s) < 2:
            return True
        return min(self.worker_cpu_s) >= 0.25 * max(self.worker_cpu_s)


# --- setup ---------------------------------------------------------------------------------


def bench_environment(database_url: str, redis_url: str) -> dict[str, str]:
    """Production settings, as a deployment would set them, on the bench database."""
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "LOG_LEVEL": "WARNING",
    }


def seed_collaborations(count: int) -> list[str]:
    """Active collaborations of one brand's active campaign (created once); their codes."""
    from django.db import transaction
    from django.utils import timezone

    from campaigns.codes import new_tracking_code
    from campaigns.models import Brand, Campaign, CampaignStatus, Collaboration
    from connect.models import CreatorProfile, Niche, User

    with transaction.atomic():
        brand, _ = Brand.objects.get_or_create(
            slug=BRAND_SLUG,
            defaults={
                "name": "Bench Redirect",
                "website": "https://shop.example.com",
                "country": "PL",
                "verified_at": timezone.now(),
            },
        )
        campaign = Campaign.objects.filter(brand=brand).first() or Campaign.objects.create(
            brand=brand,
            title="Spring sale",
            landing_url="https://shop.example.com/spring?utm_source=connect&utm_medium=creator",
            niche=Niche.objects.order_by("position").first(),
            currency="EUR",
            status=CampaignStatus.ACTIVE,
            published_at=timezone.now(),
        )
        existing = Collaboration.objects.filter(campaign=campaign).count()
        for n in range(existing, count):
            user = User.objects.create_user(email=f"bench-redirect-{n}@connect.localhost")
            creator = CreatorProfile.objects.create(
                user=user, handle=f"bench_redirect_{n}", display_name=f"Bench {n}", country="PL"
            )
            Collaboration.objects.create(
                campaign=campaign,
                brand=brand,
                creator=creator,
                status="active",
                tracking_code=new_tracking_code(),
                discount_code=f"BENCH{n}",
                activated_at=timezone.now(),
            )
    return list(
        Collaboration.objects.filter(campaign=campaign, status="active")
        .order_by("pk")
        .values_list("tracking_code", flat=True)[:count]
    )


def empty_click_tables() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE campaigns_click, campaigns_clickdailycount")


def reset_redis(redis_url: str) -> None:
    """Drop the buffer and the tracking cache entries left by an earlier run (only ours:
    the Redis database may hold other things)."""
    from campaigns.clicks import PENDING_KEY, PROCESSING_LIST_PREFIX, PROCESSING_SET_KEY

    client = redis.Redis.from_url(redis_url)
    keys = [PENDING_KEY, PROCESSING_SET_KEY]
    keys += client.keys(f"{PROCESSING_LIST_PREFIX}*") + client.keys("connect:1:track:*")
    client.delete(*keys)


# --- the server ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def procfile_web_command(port: int) -> list[str]:
    """The Procfile's `web` command, bound to our port instead of 8000."""
    for line in (BASE_DIR / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            args = shlex.split(line.removeprefix("web:"))
            return [re.sub(r"^127\.0\.0\.1:\d+$", f"127.0.0.1:{port}", arg) for arg in args]
    sys.exit("The Procfile has no web process.")


@contextlib.contextmanager
def production_server(env: dict[str, str], log_path: Path) -> Iterator[tuple[int, int]]:
    port = free_port()
    command = procfile_web_command(port)
    print("server:", " ".join(command))
    with log_path.open("wb") as log:
        # The access log (the Procfile sends it to stdout) is written but not kept.
        process = subprocess.Popen(
            command,
            cwd=BASE_DIR,
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                if process.poll() is not None:
                    sys.exit(f"gunicorn exited at start-up; see {log_path}")
                with contextlib.suppress(OSError):
                    if http_get(port, TRIVIAL_PATH)[0] == 200:
                        break
                if time.monotonic() > deadline:
                    sys.exit(f"gunicorn did not answer within 60 s; see {log_path}")
                time.sleep(0.2)
            yield port, process.pid
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def http_get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    """One GET on loopback, redirects not followed: (status, Location)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        response.read()
        return response.status, response.getheader("Location", "")
    finally:
        conn.close()


def check_redirect(port: int, code: str) -> None:
    """One request by hand: the redirect answers 302 with a click id."""
    status, location = http_get(port, f"/r/{code}", {"User-Agent": BROWSER_USER_AGENT})
    if status != 302 or "click_id=" not in location:
        sys.exit(f"/r/{code} answered {status} {location!r}")
    print(f"check: /r/{code} → 302 {location}")


# --- load ----------------------------------------------------------------------------------


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of processes, from /proc (0 for those that are gone)."""
    ticks = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
    return found


@dataclass
class CpuProbe:
    """CPU used by the server (gunicorn master and workers) and by Redis, read from /proc:
    what a request costs, whatever else runs on the machine."""

    server_pid: int
    redis_pid: int | None

    def sample(self) -> tuple[float, float, dict[int, float]]:
        """(server CPU s, Redis CPU s, CPU s per gunicorn worker)."""
        workers = {pid: cpu_seconds([pid]) for pid in children(self.server_pid)}
        server = cpu_seconds([self.server_pid]) + sum(workers.values())
        return server, cpu_seconds([self.redis_pid]) if self.redis_pid else 0.0, workers


def local_redis_pid(redis_url: str) -> int | None:
    pid = int(redis.Redis.from_url(redis_url).info("server")["process_id"])
    return pid if Path(f"/proc/{pid}/stat").exists() else None


def run_wrk(
    name: str,
    base: str,
    paths_file: Path,
    script: Path,
    probe: CpuProbe,
    *,
    seconds: int,
    threads: int,
    connections: int,
) -> Run:
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds + DRAIN_SECONDS}s",
        "--timeout",
        "5s",
        "-s",
        str(script),
        base,
        "--",
        str(paths_file),
        str(seconds),
        TRIVIAL_PATH,
    ]
    wrk = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    # CPU over the active seconds only (the drain second is /robots.txt for both paths).
    server_before, redis_before, workers_before = probe.sample()
    time.sleep(seconds)
    server_after, redis_after, workers_after = probe.sample()
    output, _ = wrk.communicate()
    if wrk.returncode != 0:
        sys.exit(f"wrk failed ({wrk.returncode}):\n{output}")
    match = re.search(r"BENCH sent=(\d+) p50_us=(\d+) p99_us=(\d+) errors=(\d+)", output)
    if match is None:
        sys.exit(f"wrk gave no result:\n{output}")
    sent, p50_us, p99_us, errors = (int(g) for g in match.groups())
    run = Run(
        name,
        sent,
        float(seconds),
        p50_us / 1000,
        p99_us / 1000,
        errors,
        server_after - server_before,
        redis_after - redis_before,
        [workers_after[pid] - cpu for pid, cpu in workers_before.items() if pid in workers_after],
    )
    shares = "/".join(f"{cpu:.1f}" for cpu in run.worker_cpu_s)
    print(
        f"  {name:<9} {run.rps:8.0f} req/s  p50 {run.p50_ms:6.2f} ms  p99 {run.p99_ms:6.2f} ms"
        f"  sent {sent}  errors {errors}  worker CPU s {shares}"
        + ("" if run.balanced else "  (one worker idle: run again)")
    )
    return run


class PeriodicFlush(threading.Thread):
    """Flushes the click buffer every few seconds, as the beat task would."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.stopping = threading.Event()
        self.flushes: list[tuple[int, float]] = []

    def run(self) -> None:
        from django.db import connection

        from campaigns.clicks import click_buffer_flush

        try:
            while not self.stopping.wait(FLUSH_INTERVAL_SECONDS):
                start = time.perf_counter()
                stored = click_buffer_flush()
                self.flushes.append((stored, time.perf_counter() - start))
        finally:
            connection.close()

    def stop(self) -> None:
        self.stopping.set()
        self.join()


def flush_everything() -> tuple[int, float]:
    """Flush until nothing is pending or held; return (clicks stored, seconds)."""
    from campaigns.clicks import click_buffer_backlog, click_buffer_flush

    start = time.perf_counter()
    stored = 0
    while True:
        stored += click_buffer_flush()
        backlog = click_buffer_backlog()
        if backlog["pending"] == 0 and backlog["processing"] == 0:
            return stored, time.perf_counter() - start


def stored_counts() -> tuple[int, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM campaigns_click")
        rows = cursor.fetchone()[0]
        cursor.execute("SELECT coalesce(sum(clicks), 0) FROM campaigns_clickdailycount")
        counted = cursor.fetchone()[0]
    return int(rows), int(counted)


# --- main ----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=15, help="measured seconds per path")
    parser.add_argument("--slice", type=int, default=3, help="seconds per wrk run")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per path")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=48)
    parser.add_argument("--codes", type=int, default=300, help="collaborations to spread over")
    args = parser.parse_args()

    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: `make bench-redirect` installs it (apt-get install wrk).")
    # Our own database by default: the directory benchmark reseeds `connect_bench`.
    os.environ["BENCH_DATABASE_URL"] = (
        os.environ.get("BENCH_REDIRECT_DATABASE_URL") or DEFAULT_DATABASE_URL
    )
    database_url = bench_database_url()
    redis_url = os.environ.get("BENCH_REDIS_URL") or DEFAULT_REDIS_URL
    env = bench_environment(database_url, redis_url)
    os.environ.update(env)

    created = ensure_database(database_url)
    print(f"database: {database_name(database_url)} ({'created' if created else 'exists'})")
    print(f"redis: {redis_url}")
    migrate(database_url)
    setup_django(database_url)
    codes = seed_collaborations(args.codes)
    reset_redis(redis_url)
    empty_click_tables()
    print(f"collaborations: {len(codes)}; {load_average()}")

    with tempfile.TemporaryDirectory(prefix="bench-redirect-") as tmp:
        folder = Path(tmp)
        script = folder / "bench.lua"
        script.write_text(WRK_SCRIPT % {"user_agent": BROWSER_USER_AGENT})
        redirect_paths = folder / "redirect.txt"
        redirect_paths.write_text("".join(f"/r/{code}\n" for code in codes))
        trivial_paths = folder / "trivial.txt"
        trivial_paths.write_text(f"{TRIVIAL_PATH}\n")
        wrk_options = {"threads": args.threads, "connections": args.connections}

        with production_server(env, folder / "gunicorn.log") as (port, server_pid):
            base = f"http://127.0.0.1:{port}"
            probe = CpuProbe(server_pid, local_redis_pid(redis_url))
            check_redirect(port, codes[0])
            print(f"warm-up: {args.warmup} s per path")
            for name, paths in (("trivial", trivial_paths), ("redirect", redirect_paths)):
                run_wrk(name, base, paths, script, probe, seconds=args.warmup, **wrk_options)
            flush_everything()
            empty_click_tables()

            slices = max(1, args.duration // args.slice)
            print(
                f"measured: {slices} × {args.slice} s per path, alternating, {args.threads} "
                f"threads, {args.connections} connections, flushing every "
                f"{FLUSH_INTERVAL_SECONDS:.0f} s"
            )
            flusher = PeriodicFlush()
            flusher.start()
            runs: dict[str, list[Run]] = {"trivial": [], "redirect": []}
            attempts: dict[str, list[Run]] = {"trivial": [], "redirect": []}
            paths_of = {"trivial": trivial_paths, "redirect": redirect_paths}
            for n in range(slices):
                # T R, R T, T R...: a drift in the machine's load falls on both paths alike.
                order = ("trivial", "redirect") if n % 2 == 0 else ("redirect", "trivial")
                for name in order:
                    for _attempt in range(MAX_ATTEMPTS):
                        # Let the workers finish closing the last run's connections first:
                        # a worker still busy with them accepts none of the new ones.
                        time.sleep(PAUSE_SECONDS)
                        run = run_wrk(
                            name,
                            base,
                            paths_of[name],
                            script,
                            probe,
                            seconds=args.slice,
                            **wrk_options,
                        )
                        attempts[name].append(run)
                        if run.balanced:
                            break
                    runs[name].append(run)
            flusher.stop()
            final_stored, final_seconds = flush_everything()
            log_tail = (folder / "gunicorn.log").read_text().strip().splitlines()[-5:]

    trivial_runs, redirect_runs = runs["trivial"], runs["redirect"]
    # Every click wrk got an answer for counts, in the runs measured again too.
    clicks_sent = sum(run.sent for run in attempts["redirect"])
    clicks_stored, clicks_counted = stored_counts()
    # Medians over the slices: a burst of someone else's load spoils one slice, not the figure.
    redirect_rps = statistics.median(run.rps for run in redirect_runs)
    trivial_rps = statistics.median(run.rps for run in trivial_runs)
    p99_ms = statistics.median(run.p99_ms for run in redirect_runs)
    errors = sum(run.errors for run in trivial_runs + redirect_runs)

    print()
    print_table(
        [
            "path",
            "req/s median",
            "req/s min",
            "req/s max",
            "p99 ms median",
            "p99 ms worst",
            "server CPU µs/req",
            "Redis CPU µs/req",
            "requests",
            "errors",
        ],
        [
            (
                name,
                statistics.median(r.rps for r in runs),
                min(r.rps for r in runs),
                max(r.rps for r in runs),
                statistics.median(r.p99_ms for r in runs),
                max(r.p99_ms for r in runs),
                sum(r.server_cpu_s for r in runs) / sum(r.sent for r in runs) * 1e6,
                sum(r.redis_cpu_s for r in runs) / sum(r.sent for r in runs) * 1e6,
                sum(r.sent for r in runs),
                sum(r.errors for r in runs),
            )
            for name, runs in (("GET /robots.txt", trivial_runs), ("GET /r/<code>", redirect_runs))
        ],
    )
    flushed = sum(stored for stored, _ in flusher.flushes)
    slowest = max((seconds for _, seconds in flusher.flushes), default=0.0)
    print(
        f"\nflush: {len(flusher.flushes)} periodic flushes stored {flushed} clicks "
        f"(slowest {slowest * 1000:.0f} ms); the final one stored {final_stored} "
        f"in {final_seconds * 1000:.0f} ms"
    )
    print(f"daily counts: {clicks_counted} clicks counted for {clicks_stored} rows stored")
    again = {name: len(attempts[name]) - len(runs[name]) for name in runs}
    print(
        f"runs measured again because one gunicorn worker held (nearly) all connections: "
        f"{again['trivial']} trivial, {again['redirect']} redirect; slices left unbalanced "
        f"after {MAX_ATTEMPTS} tries: {sum(not r.balanced for r in trivial_runs + redirect_runs)}"
    )
    print(load_average())
    if errors:
        print(f"wrk reported {errors} errors; gunicorn's last log lines:", *log_tail, sep="\n  ")
    print(
        result_line(
            redirect_rps=round(redirect_rps),
            trivial_rps=round(trivial_rps),
            ratio=f"{redirect_rps / trivial_rps:.2f}",
            p99_ms=f"{p99_ms:.1f}",
            clicks_sent=clicks_sent,
            clicks_stored=clicks_stored,
            lost=clicks_sent - clicks_stored,
        )
    )


if __name__ == "__main__":
    main()
