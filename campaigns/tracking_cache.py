"""The tracking redirect's view of a code, cached in Redis; services forget it on change."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.cache import cache
from django.db import transaction

CACHE_PREFIX = "track:"


def tracking_cache_key(code: str) -> str:
    return f"{CACHE_PREFIX}{code}"


def tracking_cache_forget(*, tracking_codes: Iterable[str | None]) -> None:
    """Drop cached redirect targets once the change that made them stale commits."""
    keys = [tracking_cache_key(code) for code in tracking_codes if code]
    if keys:
        transaction.on_commit(lambda: cache.delete_many(keys))
