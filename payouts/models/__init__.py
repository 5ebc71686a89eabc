"""The payouts app's models, one module per subdomain, re-exported here for Django."""

from payouts.models.events import (
    ORDER_EVENT_RAW_COLUMNS,
    DuplicateOrderEvent,
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
from payouts.models.orders import (
    AttributionVia,
    BudgetNote,
    Commission,
    CommissionStatus,
    Order,
)
from payouts.models.payouts import (
    OPEN_PAYOUT_STATUSES,
    Payout,
    PayoutAccount,
    PayoutOrigin,
    PayoutRail,
    PayoutStatus,
    ReconciliationDifference,
    ReconciliationKind,
    StripeWebhookEvent,
)
from payouts.models.rollups import (
    BrandEventDay,
    BrandEventKind,
    CampaignDay,
    CollaborationDay,
    CollaborationTotal,
    CreatorMaturity,
)
from payouts.models.uploads import CsvUpload, CsvUploadStatus

__all__ = [
    "OPEN_PAYOUT_STATUSES",
    "ORDER_EVENT_RAW_COLUMNS",
    "AttributionVia",
    "BrandEventDay",
    "BrandEventKind",
    "BudgetNote",
    "CampaignDay",
    "CollaborationDay",
    "CollaborationTotal",
    "Commission",
    "CommissionStatus",
    "CreatorMaturity",
    "CsvUpload",
    "CsvUploadStatus",
    "DuplicateOrderEvent",
    "LedgerAccount",
    "LedgerAccountKind",
    "LedgerBalance",
    "LedgerEntry",
    "LedgerTransaction",
    "LedgerTransactionKind",
    "Order",
    "OrderEvent",
    "OrderEventOutcome",
    "OrderEventSource",
    "OrderEventType",
    "Payout",
    "PayoutAccount",
    "PayoutOrigin",
    "PayoutRail",
    "PayoutStatus",
    "ReconciliationDifference",
    "ReconciliationKind",
    "RejectedOrderEvent",
    "StripeWebhookEvent",
]
