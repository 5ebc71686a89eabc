"""Periodic click tasks, scheduled by beat (CELERY_BEAT_SCHEDULE in config/settings.py).

Each is safe to run on many workers at once and to be lost: the next run, or
`clicks_recover`, finishes what a failed or killed one left. Beat is their retry, so they
declare no retries of their own, and an expiry slightly above their interval keeps a
stopped worker from finding a pile of stale copies when it comes back.
"""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from campaigns import clicks


@shared_task(
    name="campaigns.clicks_flush", acks_late=True, ignore_result=True, max_retries=0, expires=10
)
def clicks_flush() -> int:
    """Every 5 s: move buffered clicks from Redis to PostgreSQL."""
    return clicks.click_buffer_flush()


@shared_task(
    name="campaigns.clicks_recover", acks_late=True, ignore_result=True, max_retries=0, expires=120
)
def clicks_recover() -> int:
    """Every 60 s: re-flush the chunks of flushes that died before finishing."""
    return clicks.click_buffer_recover()


@shared_task(
    name="campaigns.click_partitions_maintain",
    acks_late=True,
    ignore_result=True,
    max_retries=0,
    expires=3600,
)
def click_partitions_maintain() -> dict[str, list[str] | int]:
    """Hourly: ensure the coming days' click partitions, drop those past retention."""
    return clicks.click_partitions_maintain(retention_days=settings.CLICK_RETENTION_DAYS)


@shared_task(
    name="campaigns.click_ip_hashes_expire",
    acks_late=True,
    ignore_result=True,
    max_retries=0,
    expires=86400,
)
def click_ip_hashes_expire() -> dict[str, list[str] | int]:
    """Daily: blank the IP hashes of clicks older than CLICK_IP_HASH_RETENTION_DAYS."""
    return clicks.click_ip_hashes_expire(days=settings.CLICK_IP_HASH_RETENTION_DAYS)
