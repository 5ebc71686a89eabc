"""The payouts app's models, one module per subdomain, re-exported here for Django."""

from payouts.models.events import (
    ORDER_EVENT_RAW_COLUMNS,
    OrderEvent,
    OrderEventOutcome,
    OrderEventSource,
    OrderEventType,
    RejectedOrderEvent,
)
from payouts.models.ledger import (
    LedgerAccount,
    LedgerAccountKind,
    LedgerBalance,
    LedgerEntry,
    LedgerTransaction,
    LedgerTransactionKind,
)

__all__ = [
    "ORDER_EVENT_RAW_COLUMNS",
    "LedgerAccount",
    "LedgerAccountKind",
    "LedgerBalance",
    "LedgerEntry",
    "LedgerTransaction",
    "LedgerTransactionKind",
    "OrderEvent",
    "OrderEventOutcome",
    "OrderEventSource",
    "OrderEventType",
    "RejectedOrderEvent",
]
