"""`manage.py rebuild_rollups`: recount every dashboard rollup from the rows it counts."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from payouts.rollups import rollups_rebuild


class Command(BaseCommand):
    help = (
        "Recount the dashboard rollups (per collaboration, campaign and day, maturity days, "
        "brand event days, campaign clicks) from commissions, orders, events and click "
        "counts. The pipeline keeps them itself; use this after restoring data by hand. "
        "Writers wait on the rollup tables while it runs."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        rollups_rebuild()
        self.stdout.write(
            self.style.SUCCESS(f"Rollups rebuilt in {time.monotonic() - started:.1f} s.")
        )
