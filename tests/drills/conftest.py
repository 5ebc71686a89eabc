"""Fixtures of the failure drills: the fault tests' shop, and an empty click table before and
after each drill (the flush between transactional tests empties only the managed tables, and
the partitioned click table is not one)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connection

from tests.payouts.scenario import shop

__all__ = ["click_table", "shop"]


@pytest.fixture
def click_table(transactional_db: None) -> Iterator[None]:
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE campaigns_click")
    yield
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE campaigns_click")
