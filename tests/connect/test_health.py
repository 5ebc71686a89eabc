"""/healthz against the real PostgreSQL, Redis and a real Celery worker process."""

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client

from config.celery import app as celery_app
from connect.health import check_beat
from connect.tasks import beat_heartbeat

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def celery_worker_process() -> Iterator[subprocess.Popen[bytes]]:
    """A real `celery worker` on this test process's Redis database."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings_test"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            "--hostname",
            f"health-{os.getpid()}@%h",
            "--without-mingle",
            "--without-gossip",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if celery_app.control.ping(timeout=0.5):
                break
            assert process.poll() is None, "the worker exited during start-up"
        else:
            pytest.fail("the Celery worker did not answer within 30 s")
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_healthz_is_ok_when_database_redis_and_a_worker_answer(
    client: Client, celery_worker_process
) -> None:  # type: ignore[no-untyped-def]
    # given: beat's heartbeat task, run by the worker
    beat_heartbeat.delay()
    deadline = time.monotonic() + 20
    while check_beat() != "ok" and time.monotonic() < deadline:
        time.sleep(0.2)

    # when
    response = client.get("/healthz")

    # then
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "redis": "ok", "worker": "ok", "beat": "ok"}


def test_healthz_is_503_and_names_the_worker_when_none_answers(client: Client) -> None:
    # when
    response = client.get("/healthz")

    # then
    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "ok"
    assert body["redis"] == "ok"
    assert body["worker"] == "error: no worker answered"


def test_healthz_is_503_and_names_redis_when_redis_cannot_be_reached(
    client: Client, settings
) -> None:  # type: ignore[no-untyped-def]
    # given: a broker address where nothing listens
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"

    # when
    response = client.get("/healthz")

    # then
    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "ok"
    assert body["redis"] == "error: ConnectionError"
    assert body["worker"] == "error: redis is down"
