"""The earnings rules (docs/earnings-rules.md) as pure functions over pre-fetched facts.

No database access here: the processing workers, the recompute command and the tests all
call the same code, so an incremental run and a recompute from scratch cannot disagree.
The rules in words, for brands: docs/earnings-rules.md.
"""

from payouts.rules.attribution import (
    ActivePeriod,
    Attributed,
    Attribution,
    CampaignFact,
    ClickFact,
    CollaborationFact,
    Unattributed,
    attribute,
)
from payouts.rules.commission import TermsFact, commission_for, payable_at, terms_at
from payouts.rules.reducer import OrderEventFact, OrderState, dedupe_events, reduce_order

__all__ = [
    "ActivePeriod",
    "Attributed",
    "Attribution",
    "CampaignFact",
    "ClickFact",
    "CollaborationFact",
    "OrderEventFact",
    "OrderState",
    "TermsFact",
    "Unattributed",
    "attribute",
    "commission_for",
    "dedupe_events",
    "payable_at",
    "reduce_order",
    "terms_at",
]
