"""Read-only admin for the ledger: staff look, only the posting service writes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from payouts.models import LedgerAccount, LedgerBalance, LedgerEntry, LedgerTransaction

if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin[Any]
    _EntryInline = admin.TabularInline[LedgerEntry, LedgerTransaction]
else:  # the admin classes are not subscriptable at runtime
    _ModelAdmin = admin.ModelAdmin
    _EntryInline = admin.TabularInline


class ReadOnlyAdmin(_ModelAdmin):
    """The ledger is append-only and written by `payouts.ledger` alone: no add, change or
    delete here (the database would refuse most of them anyway)."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class LedgerEntryInline(_EntryInline):
    model = LedgerEntry
    fields = ("account", "amount_minor", "currency")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(LedgerAccount)
class LedgerAccountAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "currency", "creator", "brand", "balance_minor")
    list_filter = ("kind", "currency")
    search_fields = ("creator__handle", "brand__name", "brand__slug")
    list_select_related = ("creator", "brand", "balance")
    raw_id_fields = ("creator", "brand")

    @admin.display(description=_("balance (minor units)"))
    def balance_minor(self, account: LedgerAccount) -> int:
        try:
            return account.balance.balance_minor
        except LedgerBalance.DoesNotExist:
            return 0


@admin.register(LedgerTransaction)
class LedgerTransactionAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "idempotency_key", "created_at", "commission_id", "payout_id")
    list_filter = ("kind",)
    search_fields = ("idempotency_key",)
    date_hierarchy = "created_at"
    inlines = (LedgerEntryInline,)


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ("id", "transaction", "account", "amount_minor", "currency")
    list_filter = ("currency",)
    list_select_related = ("transaction", "account")
    raw_id_fields = ("transaction", "account")
