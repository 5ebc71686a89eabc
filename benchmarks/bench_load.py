"""A mixed load on loopback at fixed rates against the production server with its workers
running, then checks that every accepted event was processed and every click stored.

    make bench-load                       # or: .venv/bin/python benchmarks/bench_load.py
    .venv/bin/python benchmarks/bench_load.py --seconds 30 --redirects 100

Every run starts from an empty database: it drops and recreates `connect_bench_load` (or
BENCH_LOAD_DATABASE_URL; `common.py`'s refusals apply), migrates it and seeds a small world
through the ORM: 4 verified brands with an owner who logs in and an API key each, 2 active
campaigns per brand, 40 creators with verified email addresses and passwords, one active
collaboration each. Redis is BENCH_LOAD_REDIS_URL (default redis://127.0.0.1:6379/13); the
script deletes only the broker's and the cache's keys there.

Then it starts the Procfile's `web` (gunicorn), `worker` and `beat` (Celery) lines with
production settings (DEBUG=false), logs the brand owners and some creators in through the
login form, warms up (a few event batches and redirects, processed, so that the dashboards
and the API have data) and drives, for `--seconds`, open-loop generators at fixed rates:

    redirects      GET /r/<code> as a browser                  (expects 302 with a click id)
    events         POST /api/v1/order-events, batches of 100   (expects 202, nothing rejected)
    dashboards     creator earnings and brand dashboard pages  (expects 200)
    api            GET /api/v1/commissions with a brand key    (expects 200)
    logins         GET then POST /accounts/login/ with CSRF    (expects 200, then 302)

Each request is timed from the moment it was due, not from when a client thread was free, so
a slow server shows up as latency instead of as a lower request rate. allauth limits logins
to 30 a minute per address and every request comes from 127.0.0.1, so the run raises that
limit (RATE_LIMIT_LOGIN); the API's limits stay as in production (the load is spread over
the brands' keys below them).

After the load it waits for the workers to process every event (bounded; sweeping as beat
would if they stall), flushes the click buffer until it is empty and counts:

    lost_events = events the API accepted that are not stored, plus stored ones unprocessed
    lost_clicks = redirects answered 302 with a click id, minus clicks stored

The last line is machine-readable:

    RESULT seconds=<n> requests=<n> errors=<n> lost_events=<n> lost_clicks=<n> worst_p99_ms=<n>
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import itertools
import json
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import psycopg
import redis
from bench_pipeline import (
    Service,
    bench_environment,
    drain,
    free_port,
    minor_text,
    procfile_command,
    reset_database,
    start,
    stop,
    wait_for_web,
    wait_for_worker,
    web_command,
    worker_command,
)
from bench_redirect import BROWSER_USER_AGENT, flush_everything
from common import (
    BASE_DIR,
    bench_database_url,
    database_name,
    load_average,
    migrate,
    percentile,
    print_table,
    result_line,
    setup_django,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/connect_bench_load"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
EVENTS_PATH = "/api/v1/order-events"
COMMISSIONS_PATH = "/api/v1/commissions"
LOGIN_PATH = "/accounts/login/"
PASSWORD = "bench-load-Password-1"  # noqa: S105 - the seeded users' password

BRANDS = 4
CAMPAIGNS_PER_BRAND = 2
CREATORS = 40
LOGGED_IN_CREATORS = 8
DUPLICATES_PER_BATCH = 5  # events of the brand's previous batch sent again
REFUNDS_PER_BATCH = 5  # partial refunds of orders paid in the brand's previous batch
REQUEST_TIMEOUT = 30.0
TIMELINE_SECONDS = 10


# --- the world ---------------------------------------------------------------------------------


@dataclass
class World:
    brand_ids: list[int]
    api_keys: dict[int, str]  # brand id → full key
    brand_emails: dict[int, str]  # brand id → owner's email
    codes_by_brand: dict[int, list[str]]  # brand id → discount codes
    tracking_codes: list[str]
    creator_emails: list[str]


def seed_world() -> World:
    """Brands, campaigns, creators and collaborations through the ORM, in one transaction.
    Every user gets the same password hash (hashed once: PBKDF2 is slow by design)."""
    from allauth.account.models import EmailAddress
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone

    from campaigns.api_keys import brand_api_key_create
    from campaigns.codes import new_tracking_code
    from campaigns.models import (
        Brand,
        BrandMembership,
        Campaign,
        CampaignActivePeriod,
        CampaignStatus,
        CampaignTerms,
        Collaboration,
    )
    from connect.models import CreatorProfile, Niche, User

    now = timezone.now()
    password = make_password(PASSWORD)
    niche = Niche.objects.order_by("position").first()
    world = World([], {}, {}, {}, [], [])

    def user(email: str) -> Any:
        created = User.objects.create(email=email, password=password, is_active=True)
        EmailAddress.objects.create(user=created, email=email, verified=True, primary=True)
        return created

    with transaction.atomic():
        campaigns: list[Any] = []
        for b in range(1, BRANDS + 1):
            brand = Brand.objects.create(
                name=f"Load Brand {b}",
                slug=f"load-brand-{b}",
                website=f"https://brand{b}.example.com",
                country="PL",
                verified_at=now - dt.timedelta(days=100),
            )
            email = f"owner{b}@load.connect.localhost"
            BrandMembership.objects.create(brand=brand, user=user(email), role="owner")
            world.brand_ids.append(brand.pk)
            world.brand_emails[brand.pk] = email
            world.codes_by_brand[brand.pk] = []
            for c in range(CAMPAIGNS_PER_BRAND):
                campaign = Campaign.objects.create(
                    brand=brand,
                    title=f"Campaign {b}.{c}",
                    landing_url=f"https://brand{b}.example.com/c/{c}?utm_source=connect",
                    niche=niche,
                    currency="EUR",
                    status=CampaignStatus.ACTIVE,
                    published_at=now,
                )
                CampaignTerms.objects.create(
                    campaign=campaign,
                    effective_from=now - dt.timedelta(days=30),
                    commission_type="percent",
                    commission_percent="10.00",
                    hold_days=30,
                    attribution_window_days=30,
                )
                CampaignActivePeriod.objects.create(
                    campaign=campaign, started_at=now - dt.timedelta(days=30)
                )
                campaigns.append(campaign)
        for n in range(CREATORS):
            email = f"creator{n}@load.connect.localhost"
            creator = CreatorProfile.objects.create(
                user=user(email), handle=f"load_creator_{n}", display_name=f"Load {n}", country="PL"
            )
            campaign = campaigns[n % len(campaigns)]
            code = f"LOAD{n:03d}"
            collaboration = Collaboration.objects.create(
                campaign=campaign,
                brand=campaign.brand,
                creator=creator,
                status="active",
                tracking_code=new_tracking_code(),
                discount_code=code,
                activated_at=now - dt.timedelta(days=20),
            )
            world.creator_emails.append(email)
            world.codes_by_brand[campaign.brand_id].append(code)
            world.tracking_codes.append(collaboration.tracking_code)
    for brand in Brand.objects.filter(pk__in=world.brand_ids).order_by("pk"):
        _key, secret = brand_api_key_create(brand=brand, actor=None, name="Load")
        world.api_keys[brand.pk] = secret
    return world


def reset_redis(redis_url: str) -> None:
    """Delete what an earlier run left in the bench Redis database: the broker's queue and
    bindings, and the cache (click buffer, rate-limit windows, sessions). Only those keys."""
    client = redis.Redis.from_url(redis_url)
    keys: list[Any] = []
    for pattern in ("celery", "unacked*", "_kombu.*", "connect:*"):
        keys += client.keys(pattern)
    if keys:
        client.delete(*keys)


# --- HTTP --------------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    body: bytes
    headers: http.client.HTTPMessage


class Client:
    """One keep-alive connection per thread, as a browser keeps one per site.

    gunicorn closes a connection idle for `--keep-alive` seconds (2 by default), and a request
    sent as it closes fails without an answer. Like browsers, the client opens a new
    connection after an idle second, and sends a GET once more on a new connection when a
    reused one was closed before any answer (counted in `resent`). A POST is never resent.
    """

    IDLE_SECONDS = 1.0
    STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)

    def __init__(self, port: int) -> None:
        self.port = port
        self.local = threading.local()
        self.lock = threading.Lock()
        self.resent = 0

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        conn = getattr(self.local, "conn", None)
        if conn is not None and time.monotonic() - self.local.used > self.IDLE_SECONDS:
            conn.close()
            conn = None
        reused = conn is not None
        if conn is None:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)
        self.local.conn = None
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            payload = response.read()
        except self.STALE:
            conn.close()
            if not (reused and method == "GET"):
                raise
            with self.lock:
                self.resent += 1
            return self.request(method, path, body, headers)
        except BaseException:
            conn.close()
            raise
        if response.getheader("Connection", "").lower() == "close":
            conn.close()
        else:
            self.local.conn = conn
            self.local.used = time.monotonic()
        return Answer(response.status, payload, response.headers)


def cookies_of(answer: Answer) -> dict[str, str]:
    jar = {}
    for header in answer.headers.get_all("Set-Cookie") or []:
        name, _, rest = header.partition("=")
        jar[name.strip()] = rest.split(";", 1)[0]
    return jar


def cookie_header(jar: dict[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in jar.items())


class Failure(Exception):
    """An answer the load did not expect."""


def login(client: Client, email: str) -> tuple[dict[str, str], int]:
    """Log in through allauth's form (GET for the CSRF token, then POST). Returns the cookies
    of the logged-in session and the number of requests made."""
    page = client.request("GET", LOGIN_PATH, headers={"User-Agent": BROWSER_USER_AGENT})
    if page.status != 200:
        raise Failure(f"GET {LOGIN_PATH} answered {page.status}")
    jar = cookies_of(page)
    match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
    if not match or "csrftoken" not in jar:
        raise Failure(f"GET {LOGIN_PATH} gave no CSRF token")
    body = urlencode(
        {"csrfmiddlewaretoken": match.group(1).decode(), "login": email, "password": PASSWORD}
    ).encode()
    answer = client.request(
        "POST",
        LOGIN_PATH,
        body=body,
        headers={
            "User-Agent": BROWSER_USER_AGENT,
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": cookie_header(jar),
        },
    )
    jar.update(cookies_of(answer))
    if answer.status != 302 or "sessionid" not in jar:
        raise Failure(f"POST {LOGIN_PATH} answered {answer.status}, not a redirect with a session")
    return jar, 2


# --- the generators ----------------------------------------------------------------------------


@dataclass
class Kind:
    name: str
    rate: float  # operations a second
    threads: int
    operation: Callable[[int], int]  # n → requests made; raises on an unexpected answer
    latencies_ms: list[float] = field(default_factory=list)
    timeline: list[tuple[float, float | None]] = field(default_factory=list)  # (due, ms or None)
    done: int = 0
    requests: int = 0
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run_one(self, n: int, due: float, start: float) -> None:
        try:
            requests = self.operation(n)
        except Exception as exc:  # noqa: BLE001 - every failure is counted and shown
            with self.lock:
                self.requests += 1
                self.errors.append(f"{type(exc).__name__}: {exc}"[:300])
                self.timeline.append((due - start, None))
            return
        elapsed = (time.perf_counter() - due) * 1000
        with self.lock:
            self.done += 1
            self.requests += requests
            self.latencies_ms.append(elapsed)
            self.timeline.append((due - start, elapsed))


@dataclass
class Counters:
    """What the server promised: events accepted and clicks answered, warm-up included."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    accepted: int = 0
    duplicates: int = 0
    duplicates_sent: int = 0
    clicks: int = 0


class Load:
    def __init__(self, port: int, world: World, sessions: dict[str, list[dict[str, str]]]) -> None:
        self.client = Client(port)
        self.world = world
        self.sessions = sessions
        self.counters = Counters()
        self.batch_lock = threading.Lock()
        self.batches_by_brand: dict[int, int] = {}
        self.previous: dict[int, list[dict[str, str]]] = {}
        self.batch_size = 100

    # Each operation returns the number of requests it made, or raises Failure.

    def redirect(self, n: int) -> int:
        code = self.world.tracking_codes[n % len(self.world.tracking_codes)]
        answer = self.client.request(
            "GET", f"/r/{code}", headers={"User-Agent": BROWSER_USER_AGENT}
        )
        location = answer.headers.get("Location", "")
        if answer.status != 302 or "click_id=" not in location:
            raise Failure(f"/r/{code} answered {answer.status} {location[:80]!r}")
        with self.counters.lock:
            self.counters.clicks += 1
        return 1

    def events(self, n: int) -> int:
        brand = self.world.brand_ids[n % len(self.world.brand_ids)]
        codes = self.world.codes_by_brand[brand]
        with self.batch_lock:
            number = self.batches_by_brand.get(brand, 0)
            self.batches_by_brand[brand] = number + 1
            previous = self.previous.get(brand, [])
        now = time.time()
        occurred = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 60))
        paid = [
            {
                "id": f"load-{brand}-{number}-{i}",
                "type": "order.paid",
                "order_id": f"L{brand}-{number}-{i}",
                "occurred_at": occurred,
                "currency": "EUR",
                "amount": minor_text(1000 + (number * 37 + i * 101) % 20000),
                "code": codes[(number + i) % len(codes)],
            }
            for i in range(self.batch_size - DUPLICATES_PER_BATCH - REFUNDS_PER_BATCH)
        ]
        refunds = [
            {
                "id": f"load-{brand}-{number}-refund-{i}",
                "type": "order.refunded",
                "order_id": event["order_id"],
                "occurred_at": occurred,
                "currency": "EUR",
                "amount": "1.00",
            }
            for i, event in enumerate(previous[:REFUNDS_PER_BATCH])
        ]
        again = previous[-DUPLICATES_PER_BATCH:] if previous else []
        with self.batch_lock:
            self.previous[brand] = paid
        body = json.dumps({"events": paid + refunds + again}, separators=(",", ":")).encode()
        answer = self.client.request(
            "POST",
            EVENTS_PATH,
            body=body,
            headers={
                "Authorization": f"Bearer {self.world.api_keys[brand]}",
                "Content-Type": "application/json",
            },
        )
        if answer.status != 202:
            raise Failure(f"POST {EVENTS_PATH} answered {answer.status} {answer.body[:200]!r}")
        result = json.loads(answer.body)
        with self.counters.lock:
            self.counters.accepted += result["accepted"]
            self.counters.duplicates += result["duplicates"]
            self.counters.duplicates_sent += len(again)
        if result["rejected"]:
            raise Failure(f"rejected: {json.dumps(result['rejected'][:2])[:200]}")
        return 1

    def dashboard(self, n: int) -> int:
        if n % 2:
            jar = self.sessions["creators"][n // 2 % len(self.sessions["creators"])]
            path = "/creator/earnings/?days=30"
        else:
            jar = self.sessions["brands"][n // 2 % len(self.sessions["brands"])]
            path = "/brand/dashboard/?days=30"
        answer = self.client.request(
            "GET", path, headers={"User-Agent": BROWSER_USER_AGENT, "Cookie": cookie_header(jar)}
        )
        if answer.status != 200:
            raise Failure(f"GET {path} answered {answer.status}")
        return 1

    def api(self, n: int) -> int:
        brand = self.world.brand_ids[n % len(self.world.brand_ids)]
        answer = self.client.request(
            "GET",
            COMMISSIONS_PATH,
            headers={"Authorization": f"Bearer {self.world.api_keys[brand]}"},
        )
        if answer.status != 200:
            raise Failure(f"GET {COMMISSIONS_PATH} answered {answer.status} {answer.body[:200]!r}")
        return 1

    def login(self, n: int) -> int:
        emails = self.world.creator_emails
        _jar, requests = login(self.client, emails[n % len(emails)])
        return requests


def drive(kinds: list[Kind], seconds: float) -> tuple[float, list[float]]:
    """Run every kind at its rate for `seconds`: a scheduler thread per kind hands each
    operation, when due, to that kind's pool (open loop: a slow answer does not delay the next
    request). Waits for the operations in flight. Returns the seconds from the first due
    operation to the last answer, and the 1-minute load average at the end of every
    TIMELINE_SECONDS."""
    pools = {k.name: ThreadPoolExecutor(k.threads, thread_name_prefix=k.name) for k in kinds}
    start = time.perf_counter() + 0.5

    def schedule(kind: Kind) -> None:
        if kind.rate <= 0:
            return
        pool = pools[kind.name]
        for n in itertools.count():
            due = start + n / kind.rate
            if due - start >= seconds:
                return
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(kind.run_one, n, due, start)

    loads: list[float] = []
    stopping = threading.Event()

    def sample_load() -> None:
        while not stopping.wait(start + TIMELINE_SECONDS * (len(loads) + 1) - time.perf_counter()):
            loads.append(os.getloadavg()[0])

    sampler = threading.Thread(target=sample_load, daemon=True)
    sampler.start()
    schedulers = [threading.Thread(target=schedule, args=(k,), daemon=True) for k in kinds]
    for thread in schedulers:
        thread.start()
    for thread in schedulers:
        thread.join()
    for pool in pools.values():
        pool.shutdown(wait=True)
    stopping.set()
    sampler.join()
    if len(loads) < math.ceil(seconds / TIMELINE_SECONDS):
        loads.append(os.getloadavg()[0])
    return time.perf_counter() - start, loads


def print_timeline(kinds: list[Kind], loads: list[float], seconds: float) -> None:
    """Latency by when the requests were due, TIMELINE_SECONDS at a time: shows whether a
    slow p99 is spread over the run or one stall (and what the machine's load was then)."""
    by_name = {k.name: k for k in kinds}
    rows = []
    windows = math.ceil(seconds / TIMELINE_SECONDS)
    for w in range(windows):
        low, high = w * TIMELINE_SECONDS, (w + 1) * TIMELINE_SECONDS

        def window(kind: Kind, low: float = low, high: float = high) -> list[float | None]:
            return [ms for due, ms in kind.timeline if low <= due < high]

        redirects = [ms for ms in window(by_name["redirects"]) if ms is not None]
        others = [ms for k in kinds if k.name != "redirects" for ms in window(k) if ms is not None]
        errors = sum(1 for k in kinds for ms in window(k) if ms is None)
        rows.append(
            (
                f"{low:.0f}-{high:.0f} s",
                f"{loads[w]:.2f}" if w < len(loads) else "",
                percentile(redirects, 50),
                percentile(redirects, 99),
                percentile(others, 50),
                percentile(others, 99),
                errors,
            )
        )
    print_table(
        ["due", "load", "redirect p50", "redirect p99", "others p50", "others p99", "errors"],
        rows,
    )


def check_pages(load: Load) -> None:
    """After the warm-up: the pages and the API show the processed commissions (not an empty
    dashboard, nor the "verify your address" page)."""
    cookies = {
        "/brand/dashboard/?days=30": load.sessions["brands"][0],
        "/creator/earnings/?days=30": load.sessions["creators"][0],
    }
    expected = {
        "/brand/dashboard/?days=30": b"data-creator=",
        "/creator/earnings/?days=30": b"Load Brand",
    }
    for path, jar in cookies.items():
        page = load.client.request("GET", path, headers={"Cookie": cookie_header(jar)})
        if page.status != 200 or expected[path] not in page.body:
            sys.exit(f"GET {path} answered {page.status} without {expected[path]!r}")
    brand = load.world.brand_ids[0]
    answer = load.client.request(
        "GET", COMMISSIONS_PATH, headers={"Authorization": f"Bearer {load.world.api_keys[brand]}"}
    )
    if answer.status != 200 or not json.loads(answer.body)["results"]:
        sys.exit(f"GET {COMMISSIONS_PATH} answered {answer.status} {answer.body[:200]!r}")


# --- checks ------------------------------------------------------------------------------------


def stored_events(url: str) -> tuple[int, int]:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE processed_at IS NULL) FROM payouts_orderevent"
        ).fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def stored_clicks(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM campaigns_click").fetchone()
    return int(row[0]) if row else 0


# --- main --------------------------------------------------------------------------------------


def interrupted(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def collect_static(env: dict[str, str]) -> None:
    """`manage.py collectstatic`, the deploy step that production's manifest storage needs
    (into STATIC_ROOT, `staticfiles/`, ignored by git)."""
    subprocess.run(
        [sys.executable, str(BASE_DIR / "manage.py"), "collectstatic", "--noinput", "-v", "0"],
        cwd=BASE_DIR,
        env={**os.environ, **env},
        check=True,
    )


def beat_command(schedule_path: Path) -> list[str]:
    args = procfile_command("beat")
    if "--schedule" in args:
        args[args.index("--schedule") + 1] = str(schedule_path)
    return args


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--redirects", type=float, default=200, help="redirects a second")
    parser.add_argument("--event-batches", type=float, default=2, help="event batches a second")
    parser.add_argument("--batch-size", type=int, default=100, help="events a batch")
    parser.add_argument("--dashboards", type=float, default=5, help="dashboard pages a second")
    parser.add_argument("--api", type=float, default=5, help="API reads a second")
    parser.add_argument("--logins", type=float, default=1, help="logins a second")
    parser.add_argument("--drain-timeout", type=float, default=180, help="seconds")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, interrupted)

    os.environ["BENCH_DATABASE_URL"] = (
        os.environ.get("BENCH_LOAD_DATABASE_URL") or DEFAULT_DATABASE_URL
    )
    url = bench_database_url()
    redis_url = os.environ.get("BENCH_LOAD_REDIS_URL") or DEFAULT_REDIS_URL
    env = bench_environment(url, redis_url)
    # Production limits, except logins: all of them come from 127.0.0.1 here.
    env["ORDER_EVENTS_RATE_LIMIT"] = os.environ.get("ORDER_EVENTS_RATE_LIMIT", "120/m")
    env["RATE_LIMIT_LOGIN"] = "100000/m/ip"
    os.environ.update(env)
    print(f"database: {database_name(url)} (recreated); redis: {redis_url}")
    print(load_average())

    begin = time.perf_counter()
    reset_database(url)
    migrate(url)
    setup_django(url)
    reset_redis(redis_url)
    collect_static(env)
    world = seed_world()
    print(
        f"seed: {BRANDS} brands, {BRANDS * CAMPAIGNS_PER_BRAND} campaigns, {CREATORS} creators "
        f"and collaborations in {time.perf_counter() - begin:.1f} s (with the migrations and "
        "collectstatic)"
    )

    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        folder = Path(tmp)
        port = free_port()
        web = start("web", web_command(port, None), env, folder / "web.log")
        worker = start("worker0", worker_command(0, None), env, folder / "worker0.log")
        beat = start("beat", beat_command(folder / "celerybeat-schedule"), env, folder / "beat.log")
        services: list[Service] = [web, worker, beat]
        try:
            wait_for_web(web, port)
            wait_for_worker(worker)
            print("server:", " ".join(web.process.args))  # type: ignore[arg-type]
            print("worker:", " ".join(worker.process.args))  # type: ignore[arg-type]
            print("beat:", " ".join(beat.process.args))  # type: ignore[arg-type]

            client = Client(port)
            sessions = {
                "brands": [login(client, world.brand_emails[b])[0] for b in world.brand_ids],
                "creators": [
                    login(client, e)[0] for e in world.creator_emails[:LOGGED_IN_CREATORS]
                ],
            }
            load = Load(port, world, sessions)
            load.batch_size = args.batch_size
            # Warm-up, untimed: data for the dashboards and the API, and warm caches.
            for n in range(2 * BRANDS):
                load.events(n)
            for n in range(len(world.tracking_codes)):
                load.redirect(n)
            drained, _sweeps = drain(url, args.drain_timeout)
            check_pages(load)
            print(
                f"warm-up: {len(sessions['brands']) + len(sessions['creators'])} sessions, "
                f"{load.counters.accepted} events accepted and "
                f"{'processed' if drained else 'NOT processed'}, "
                f"{load.counters.clicks} redirects"
            )

            kinds = [
                Kind("redirects", args.redirects, 32, load.redirect),
                Kind("events", args.event_batches, 8, load.events),
                Kind("dashboards", args.dashboards, 16, load.dashboard),
                Kind("api", args.api, 16, load.api),
                Kind("logins", args.logins, 8, load.login),
            ]
            print(f"load: {args.seconds:.0f} s; {load_average()}", flush=True)
            cpu_before = time.process_time()
            span, loads = drive(kinds, args.seconds)
            client_cpu = time.process_time() - cpu_before
            print(
                f"load: done, the last answer {span:.1f} s after the first request was due; "
                f"this client used {client_cpu:.1f} CPU s ({client_cpu / span * 100:.0f} % of "
                "one CPU)"
            )
            print(f"after the load: {load_average()}")

            drain_start = time.perf_counter()
            drained, sweeps = drain(url, args.drain_timeout)
            print(
                f"processing: {'drained' if drained else 'NOT drained'} "
                f"{time.perf_counter() - drain_start:.1f} s after the load; sweeps {sweeps}"
            )
            flushed, flush_seconds = flush_everything()
            print(f"clicks: final flush stored {flushed} in {flush_seconds:.2f} s")
        finally:
            for service in services:
                stop(service)
        logs = {s.name: s.log_path.read_text(errors="replace") for s in services}

    print()
    rows = []
    worst_p99 = 0.0
    for kind in kinds:
        window = max(span, args.seconds)  # until the last answer
        p50 = percentile(kind.latencies_ms, 50)
        p99 = percentile(kind.latencies_ms, 99)
        if kind.latencies_ms:
            worst_p99 = max(worst_p99, p99)
        rows.append(
            (
                kind.name,
                f"{kind.rate:g}",
                f"{kind.done / window:.1f}",
                kind.requests,
                p50,
                p99,
                len(kind.errors),
            )
        )
    print_table(["kind", "target/s", "achieved/s", "requests", "p50 ms", "p99 ms", "errors"], rows)
    for kind in kinds:
        for error in sorted(set(kind.errors))[:5]:
            print(f"  {kind.name} error: {error}")
    print()
    print_timeline(kinds, loads, args.seconds)
    print()

    counters = load.counters
    stored, unprocessed = stored_events(url)
    lost_events = unprocessed + max(0, counters.accepted - stored)
    clicks = stored_clicks(url)
    lost_clicks = max(0, counters.clicks - clicks)
    print(
        f"events: {counters.accepted:,} accepted, {stored:,} stored, {unprocessed:,} unprocessed; "
        f"{counters.duplicates:,} answered as duplicates of {counters.duplicates_sent:,} sent again"
    )
    print(f"clicks: {counters.clicks:,} redirects answered with a click id, {clicks:,} stored")
    print(
        f"connections: {load.client.resent} GETs sent again on a new connection after the "
        "server had closed the idle one"
    )
    requests = sum(k.requests for k in kinds)
    errors = sum(len(k.errors) for k in kinds)

    missed = []
    for kind in kinds:
        achieved = kind.done / max(span, args.seconds)
        if kind.rate > 0 and achieved < kind.rate * 0.95:
            missed.append(f"{kind.name} rate {achieved:.1f}/s < {kind.rate:g}/s")
    if errors:
        missed.append(f"{errors} errors")
    if lost_events:
        missed.append(f"{lost_events} events lost")
    if lost_clicks:
        missed.append(f"{lost_clicks} clicks lost")
    if stored > counters.accepted:
        missed.append(f"{stored - counters.accepted} more events stored than accepted")
    if clicks > counters.clicks:
        missed.append(f"{clicks - counters.clicks} more clicks stored than answered")
    if counters.duplicates != counters.duplicates_sent:
        missed.append("duplicates answered differ from duplicates sent")
    for line in missed:
        print(f"target missed: {line}")
    if missed:
        for name, text in logs.items():
            tail = [line for line in text.splitlines() if "ERROR" in line or "Traceback" in line]
            for line in tail[-3:]:
                print(f"  {name} log: {line[:200]}")
    print(load_average())
    print(
        result_line(
            seconds=round(args.seconds),
            requests=requests,
            errors=errors,
            lost_events=lost_events,
            lost_clicks=lost_clicks,
            worst_p99_ms=round(worst_p99),
        )
    )
    with contextlib.suppress(Exception):
        from django.db import connection

        connection.close()


if __name__ == "__main__":
    main()
