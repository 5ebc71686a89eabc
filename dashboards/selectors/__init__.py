"""Reads for the dashboards: a creator's earnings, a brand's campaigns and integration, and
the platform as staff see it. One function per dashboard section, each returning dataclasses.

Every number comes from what the pipeline already counted, in the same transaction as the
change it counts: the rollups of `payouts.models.rollups` (per collaboration, campaign and
day, per creator and payable day, per brand and day of events), the click counters of
`campaigns` (`ClickDailyCount`, `CampaignClickDay`) and the ledger's balances. The rest are
small reads along an index: the latest unattributed orders, the latest refused events, the
oldest unprocessed event. No section adds up commissions, orders or order events, so each
costs the same few queries whatever the data's size.

Days are UTC dates, as the rollups count them: an order counts on the day its order.paid
arrived, a click on the day it happened. Periods longer than 90 days are charted a week at
a time, grouped in SQL: a year is 53 rows per currency, not 365 (`Period.by_week`).
"""

from dashboards.selectors.brand import (
    UNATTRIBUTED_LABELS,
    CampaignDayRow,
    EventDay,
    IntegrationHealth,
    ReasonRow,
    RefusalRow,
    TopCreator,
    UnattributedOrder,
    brand_activity,
    brand_campaign_days,
    brand_campaigns,
    brand_integration_health,
    brand_top_creators,
    brand_unattributed_latest,
    unattributed_label,
)
from dashboards.selectors.common import (
    DEFAULT_PERIOD_DAYS,
    PERIOD_CHOICES,
    WEEKLY_AFTER_DAYS,
    Activity,
    CampaignRow,
    DailySeries,
    DayFigures,
    Period,
    utc_today,
    week_start,
)
from dashboards.selectors.creator import (
    COMMISSION_CSV_COLUMNS,
    COMMISSION_PAGE_SIZE,
    CommissionFilters,
    CreatorMoney,
    creator_activity,
    creator_collaborated_campaigns,
    creator_commission_rows,
    creator_commissions,
    creator_money,
)
from dashboards.selectors.staff import (
    ClickFlushLag,
    FailedEvents,
    PayoutStatusRow,
    PlatformCurrency,
    PlatformMoney,
    RefusingBrand,
    WorkerLag,
    click_flush_lag,
    failed_events,
    failed_payouts_latest,
    platform_money,
    reconciliation_open_count,
    worker_lag,
)

__all__ = [
    "COMMISSION_CSV_COLUMNS",
    "COMMISSION_PAGE_SIZE",
    "DEFAULT_PERIOD_DAYS",
    "PERIOD_CHOICES",
    "UNATTRIBUTED_LABELS",
    "WEEKLY_AFTER_DAYS",
    "Activity",
    "CampaignDayRow",
    "CampaignRow",
    "ClickFlushLag",
    "CommissionFilters",
    "CreatorMoney",
    "DailySeries",
    "DayFigures",
    "EventDay",
    "FailedEvents",
    "IntegrationHealth",
    "PayoutStatusRow",
    "Period",
    "PlatformCurrency",
    "PlatformMoney",
    "ReasonRow",
    "RefusalRow",
    "RefusingBrand",
    "TopCreator",
    "UnattributedOrder",
    "WorkerLag",
    "brand_activity",
    "brand_campaign_days",
    "brand_campaigns",
    "brand_integration_health",
    "brand_top_creators",
    "brand_unattributed_latest",
    "click_flush_lag",
    "creator_activity",
    "creator_collaborated_campaigns",
    "creator_commission_rows",
    "creator_commissions",
    "creator_money",
    "failed_events",
    "failed_payouts_latest",
    "platform_money",
    "reconciliation_open_count",
    "unattributed_label",
    "utc_today",
    "week_start",
    "worker_lag",
]
