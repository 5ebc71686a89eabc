"""`manage.py check_ledger`: verify every ledger invariant; exit 1 on any failure."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from payouts.selectors import ledger_checks, ledger_totals


class Command(BaseCommand):
    help = (
        "Verify the ledger: balanced transactions per currency, entries on every transaction, "
        "entry currencies equal to their accounts', rollups equal to the sums of entries, "
        "commissions equal to what the ledger holds for them, no commission without its events. "
        "Exits 1 on any failure."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        totals = ledger_totals()
        self.stdout.write(
            f"Ledger: {totals['accounts']} accounts, {totals['transactions']} transactions, "
            f"{totals['entries']} entries."
        )
        failed = 0
        for check in ledger_checks():
            if check.failures:
                failed += len(check.failures)
                self.stdout.write(self.style.ERROR(f"FAIL {check.name}: {len(check.failures)}"))
                for failure in check.failures:
                    self.stderr.write(f"  {failure}")
            else:
                self.stdout.write(self.style.SUCCESS(f"ok   {check.name}"))
        if failed:
            self.stderr.write(self.style.ERROR(f"check_ledger: {failed} failure(s)."))
            raise SystemExit(1)
        self.stdout.write(self.style.SUCCESS("check_ledger: every invariant holds."))
