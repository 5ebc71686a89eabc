"""Health of the parts the marketplace needs: database, Redis, Celery worker, beat."""

from __future__ import annotations

import time

import redis
from django.conf import settings
from django.db import connection

from config.celery import app as celery_app

BEAT_HEARTBEAT_KEY = "connect:beat:heartbeat"
BEAT_STALE_AFTER_SECONDS = 120


def _redis_client() -> redis.Redis:
    return redis.Redis.from_url(
        settings.CELERY_BROKER_URL, socket_connect_timeout=1, socket_timeout=1
    )


def check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure is "down", reported by name
        return f"error: {exc.__class__.__name__}"
    return "ok"


def check_redis() -> str:
    try:
        _redis_client().ping()
    except Exception as exc:  # noqa: BLE001
        return f"error: {exc.__class__.__name__}"
    return "ok"


def check_worker(timeout: float = 1.0) -> str:
    """At least one Celery worker answers a ping on the broker."""
    try:
        replies = celery_app.control.ping(timeout=timeout)
    except Exception as exc:  # noqa: BLE001
        return f"error: {exc.__class__.__name__}"
    return "ok" if replies else "error: no worker answered"


def beat_heartbeat_record() -> None:
    _redis_client().set(BEAT_HEARTBEAT_KEY, str(time.time()), ex=BEAT_STALE_AFTER_SECONDS * 10)


def check_beat() -> str:
    """Beat schedules a heartbeat task every 30 s; a worker runs it and stamps Redis."""
    try:
        raw = _redis_client().get(BEAT_HEARTBEAT_KEY)
    except Exception as exc:  # noqa: BLE001
        return f"error: {exc.__class__.__name__}"
    if raw is None:
        return "unknown: no heartbeat yet"
    age = time.time() - float(raw)
    return "ok" if age <= BEAT_STALE_AFTER_SECONDS else f"stale: last heartbeat {int(age)}s ago"


def health_report() -> tuple[bool, dict[str, str]]:
    """The report behind /healthz; healthy means database, Redis and a worker answer."""
    report = {"database": check_database(), "redis": check_redis()}
    report["worker"] = check_worker() if report["redis"] == "ok" else "error: redis is down"
    report["beat"] = check_beat() if report["redis"] == "ok" else "error: redis is down"
    healthy = all(report[part] == "ok" for part in ("database", "redis", "worker"))
    return healthy, report
