"""The payouts app's models, one module per subdomain, re-exported here for Django."""

from payouts.models.ledger import (
    LedgerAccount,
    LedgerAccountKind,
    LedgerBalance,
    LedgerEntry,
    LedgerTransaction,
    LedgerTransactionKind,
)

__all__ = [
    "LedgerAccount",
    "LedgerAccountKind",
    "LedgerBalance",
    "LedgerEntry",
    "LedgerTransaction",
    "LedgerTransactionKind",
]
