"""Fail fast, and say why, when the tests' PostgreSQL or Redis cannot be reached."""

import os
import sys

import psycopg
import redis

database_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/connect")
redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")

problems = []
try:
    # Connect to the server's maintenance database: the tests create their own databases.
    base = database_url.rsplit("/", 1)[0] + "/postgres"
    psycopg.connect(base, connect_timeout=3).close()
except Exception as exc:  # noqa: BLE001
    problems.append(f"PostgreSQL at {database_url.rsplit('/', 1)[0]} cannot be reached: {exc}")
try:
    redis.Redis.from_url(redis_url, socket_connect_timeout=3).ping()
except Exception as exc:  # noqa: BLE001
    problems.append(f"Redis at {redis_url} cannot be reached: {exc}")

if problems:
    print("The tests need the real PostgreSQL and Redis:", file=sys.stderr)
    for problem in problems:
        print(f"  - {problem}", file=sys.stderr)
    print(
        "Start them (see README.md, 'Services') or set DATABASE_URL / REDIS_URL.", file=sys.stderr
    )
    sys.exit(1)
print("PostgreSQL and Redis answer.")
