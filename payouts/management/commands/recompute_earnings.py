"""`manage.py recompute_earnings --verify | --apply`: rebuild every commission from the
stored events and compare with the live state (exit 1 on any difference with --verify)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from connect.money import format_money
from payouts.recompute import earnings_apply, earnings_recompute


class Command(BaseCommand):
    help = (
        "Recompute every commission from the stored order events, without touching live data, "
        "and report each difference from the live commissions (--verify, exit 1 if any); "
        "--apply settles the differing orders, posting correcting ledger entries."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        mode = parser.add_mutually_exclusive_group(required=True)
        mode.add_argument("--verify", action="store_true", help="Report differences only.")
        mode.add_argument("--apply", action="store_true", help="Post corrections for them.")
        parser.add_argument(
            "--show", type=int, default=50, help="How many differences to print (default 50)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        report = earnings_recompute()
        seconds = time.monotonic() - started
        totals = ", ".join(
            format_money(amount, currency) for currency, amount in sorted(report.totals.items())
        )
        self.stdout.write(
            f"Recomputed {report.orders} orders from {report.events} events in {seconds:.1f} s: "
            f"{report.commissions} commissions ({totals or 'none'})."
        )
        for difference in report.differences[: options["show"]]:
            self.stderr.write(f"  {difference.describe()}")
        if not report.differences:
            self.stdout.write(self.style.SUCCESS("recompute_earnings: no differences."))
            return
        count = len(report.differences)
        if options["verify"]:
            self.stderr.write(self.style.ERROR(f"recompute_earnings: {count} difference(s)."))
            raise SystemExit(1)
        settled = earnings_apply(report.differences)
        after = earnings_recompute()
        if after.differences:
            raise CommandError(
                f"Settled {settled} orders but {len(after.differences)} still differ; "
                "see the first ones above and investigate."
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"recompute_earnings: corrected {settled} order(s); none differ now."
            )
        )
