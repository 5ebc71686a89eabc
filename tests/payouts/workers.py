"""Real processes for fault tests: a Celery worker, a web server and a private Redis.

Each runs as its own operating-system process on this test's database, so that it can be
killed (SIGKILL) or have its Redis taken away like in production.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def process_env(**overrides: str) -> dict[str, str]:
    """The environment of a child process on this test's database (and Redis unless told)."""
    name = connection.settings_dict["NAME"]
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{name}",
        "PYTHONUNBUFFERED": "1",
        **overrides,
    }


def production_env(**overrides: str) -> dict[str, str]:
    """`process_env` with the production settings a deployment sets (DEBUG off, a real secret
    key, the allowed host), TLS left to a front server that is not there."""
    return process_env(
        **{
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "false",
            **overrides,
        }
    )


class Child:
    """A child process whose output is collected in the background."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.args = args
        self.output: list[str] = []
        # Its own process group: killing it takes its children (beat, pool) along.
        self.process = subprocess.Popen(
            args,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)

    def saw(self, text: str) -> bool:
        return any(text in line for line in self.output)

    def kill(self) -> None:
        """SIGKILL the process and everything it started."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def log(self) -> str:
        return "".join(self.output[-80:])


@contextmanager
def celery_worker(env: dict[str, str], *, beat: bool = False, name: str = "w") -> Iterator[Child]:
    """A real `celery worker` (solo pool, so that a kill takes the task with it)."""
    args = [
        sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo",
        "--loglevel=INFO", "--hostname", f"{name}-{os.getpid()}-{time.monotonic_ns()}@%h",
        "--without-mingle", "--without-gossip",
    ]  # fmt: skip
    if beat:
        args += ["--beat", "--schedule", f"/tmp/connect-test-beat-{os.getpid()}-{name}"]
    child = Child(args, env)
    try:
        wait_for(lambda: child.saw(" ready.") or child.process.poll() is not None, "the worker")
        assert child.process.poll() is None, f"the worker exited:\n{child.log()}"
        yield child
    finally:
        child.kill()


@contextmanager
def web_server(env: dict[str, str]) -> Iterator[str]:
    """The production WSGI server (gunicorn) on a free port; yields its base URL."""
    with web_server_process(env) as (base, _child):
        yield base


@contextmanager
def web_server_process(env: dict[str, str]) -> Iterator[tuple[str, Child]]:
    """`web_server`, yielding the process too (for its log)."""
    port = free_port()
    child = Child(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--threads",
            "4",
            "--timeout",
            "60",
        ],
        env,
    )
    try:

        def up() -> bool:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    return True
            except OSError:
                assert child.process.poll() is None, f"gunicorn exited:\n{child.log()}"
                return False

        wait_for(up, "gunicorn")
        yield f"http://127.0.0.1:{port}", child
    finally:
        child.kill()


class PrivateRedis:
    """A Redis server of this test's own, which the test may stop and start again.

    `directory`: keep an append-only file there, fsynced before each answer
    (`appendfsync always`), so that a server killed and started again comes back with every
    write it acknowledged, as the click buffer's Redis must be deployed (README, "Services and
    settings").
    Without it the server keeps nothing, like the suite's own Redis.
    """

    def __init__(self, directory: Path | None = None) -> None:
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        persistence = ["--appendonly", "no"]
        if self.directory is not None:
            persistence = ["--appendonly", "yes", "--appendfsync", "always",
                           "--dir", str(self.directory)]  # fmt: skip
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             *persistence],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip

        def up() -> bool:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    return sock.recv(16).startswith(b"+PONG")
            except OSError:
                return False

        wait_for(up, "redis-server")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)
