"""A PostgreSQL server of a drill's own, which the drill may crash and start again.

The suite's PostgreSQL is shared by every test process, so a drill that restarts the
database gets a cluster of its own: `initdb` in a temporary directory, on a free port, with a
copy (`pg_dump`) of the test database as the test has seeded it. The test process and the
children it starts (web server, worker) then all use that copy.

When the suite runs as root, the server runs as the `postgres` system user, since PostgreSQL
refuses to run as root.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import connection, connections

from tests.payouts.workers import free_port, wait_for


def _bindir() -> Path:
    """Where the server's programs (initdb, pg_ctl) are: Debian keeps them out of PATH, under
    /usr/lib/postgresql/<version>/bin; pg_config names the folder when it is installed."""
    if shutil.which("pg_config"):
        found = subprocess.run(
            ["pg_config", "--bindir"], capture_output=True, text=True, check=False
        )
        if found.returncode == 0 and (Path(found.stdout.strip()) / "initdb").exists():
            return Path(found.stdout.strip())
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3])
    )
    assert versions, "no PostgreSQL server programs (initdb) on this machine"
    return versions[-1].parent


class PrivatePostgres:
    def __init__(self) -> None:
        self.port = free_port()
        self.bindir = _bindir()
        self.root = Path(tempfile.mkdtemp(prefix="connect-drill-pg-"))
        self.data = self.root / "data"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            shutil.chown(self.root, user="postgres", group="postgres")

    def _run(self, *args: str) -> str:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8")

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={self.root} -c max_connections=50"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-o", options,
                  "-w", "start")  # fmt: skip

    def crash(self) -> None:
        """Stop the way a crash does: every backend killed, no checkpoint, recovery from the
        write-ahead log at the next start."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def destroy(self) -> None:
        with contextlib.suppress(RuntimeError):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def copy_database(self, name: str) -> None:
        """Create `name` here as a copy of the suite's database of that name."""
        subprocess.run(
            ["createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name],
            check=True,
        )
        dump = subprocess.Popen(
            ["pg_dump", "-h", "127.0.0.1", "-U", "postgres", "--no-owner", name],
            stdout=subprocess.PIPE,
        )
        restore = subprocess.run(
            ["psql", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(self.port),
             "-U", "postgres", "-d", name],
            stdin=dump.stdout, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert dump.wait() == 0
        assert restore.returncode == 0, restore.stderr

    def log(self) -> str:
        path = self.root / "log"
        return path.read_text()[-4000:] if path.exists() else ""


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """A running private cluster holding a copy of this test's database, which the test
    process uses until the end of the block (its own database is left as it was)."""
    server = PrivatePostgres()
    name = connection.settings_dict["NAME"]
    port = connection.settings_dict["PORT"]
    try:
        server.init()
        server.start()
        server.copy_database(name)
        connections.close_all()
        connection.settings_dict["PORT"] = str(server.port)
        try:
            yield server
        finally:
            connections.close_all()
            connection.settings_dict["PORT"] = port
    finally:
        server.destroy()


def reconnect() -> None:
    """Drop this process's connections, which a crash of the server left broken."""
    connections.close_all()


def until_up(server: PrivatePostgres) -> None:
    def up() -> bool:
        done = subprocess.run(
            [str(server.bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(server.port)],
            capture_output=True,
            check=False,
        )
        return done.returncode == 0

    wait_for(up, "the private PostgreSQL to accept connections")
