"""Attribution: which collaboration, if any, an order is credited to (docs/earnings-rules.md).

`attribute` decides from the order's counting `order.paid` event and facts the caller has
fetched beforehand (the resolved click, the collaborations whose codes match, the
campaigns with their active periods and terms versions). It reads no database, so the
workers, the recompute command and the tests share one decision. The rules, with their
boundaries, are written out for brands in docs/earnings-rules.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from django.utils.translation import gettext_lazy

from payouts.rules.commission import TermsFact, terms_at
from payouts.rules.reducer import ORDER_PAID, OrderEventFact

# Reason codes of an unattributed order. Stable strings: stored and filtered on.
NO_CODE_OR_CLICK: Final = "no_code_or_click"
UNKNOWN_CLICK: Final = "unknown_click"
CLICK_AFTER_ORDER: Final = "click_after_order"
CLICK_OUTSIDE_WINDOW: Final = "click_outside_window"
UNKNOWN_CODE: Final = "unknown_code"
COLLABORATION_NOT_ACTIVE: Final = "collaboration_not_active"
CREATOR_SUSPENDED: Final = "creator_suspended"
CAMPAIGN_NOT_ACTIVE: Final = "campaign_not_active"
NO_TERMS_IN_FORCE: Final = "no_terms_in_force"
WRONG_CURRENCY: Final = "wrong_currency"

# Messages for people, rendered in the reader's language when shown (the reason and its
# parameters are what gets stored).
REASON_MESSAGES: Final = {
    NO_CODE_OR_CLICK: gettext_lazy("The order has neither a click id nor a code."),
    UNKNOWN_CLICK: gettext_lazy(
        "The click id %(click_id)s is not a click on one of this brand's tracking links."
    ),
    CLICK_AFTER_ORDER: gettext_lazy(
        "The click %(click_id)s happened at %(clicked_at)s, after the order (%(occurred_at)s)."
    ),
    CLICK_OUTSIDE_WINDOW: gettext_lazy(
        "The click %(click_id)s happened at %(clicked_at)s, more than the campaign's "
        "%(window_days)s-day attribution window before the order (%(occurred_at)s)."
    ),
    UNKNOWN_CODE: gettext_lazy(
        "The code %(code)s is not a tracking code or discount code of this brand."
    ),
    COLLABORATION_NOT_ACTIVE: gettext_lazy(
        "The creator's collaboration %(collaboration_id)s was not active when the order "
        "happened (%(occurred_at)s)."
    ),
    CREATOR_SUSPENDED: gettext_lazy(
        "The creator of collaboration %(collaboration_id)s was suspended at the time of the "
        "order (%(occurred_at)s)."
    ),
    CAMPAIGN_NOT_ACTIVE: gettext_lazy(
        "Campaign %(campaign_id)s was not active when the order happened (%(occurred_at)s)."
    ),
    NO_TERMS_IN_FORCE: gettext_lazy(
        "Campaign %(campaign_id)s had no commission terms in force when the order happened "
        "(%(occurred_at)s)."
    ),
    WRONG_CURRENCY: gettext_lazy(
        "The order is in %(order_currency)s but campaign %(campaign_id)s pays in "
        "%(campaign_currency)s; orders in another currency are not credited."
    ),
}

Via = Literal["click", "code"]


def _is_aware(value: dt.datetime) -> bool:
    return value.tzinfo is not None and value.utcoffset() is not None


@dataclass(frozen=True)
class ClickFact:
    """A stored click, as `campaigns.clicks.click_resolve` returns it."""

    click_id: str
    collaboration_id: int
    clicked_at: dt.datetime


@dataclass(frozen=True)
class CollaborationFact:
    """A collaboration's codes and the period in which it attributes orders:
    activated_at ≤ t < removed_at (open-ended while not removed).

    `creator_suspensions` are the periods in which staff suspended the collaboration's
    creator (`connect.CreatorSuspension`); an order placed in one earns nothing. Periods
    rather than the creator's current flag, so that recomputing after the creator is
    reinstated gives the answer the workers gave at the time.
    """

    collaboration_id: int
    campaign_id: int
    tracking_code: str | None
    discount_code: str | None
    activated_at: dt.datetime | None
    removed_at: dt.datetime | None
    creator_suspensions: tuple[ActivePeriod, ...] = ()

    def active_at(self, when: dt.datetime) -> bool:
        """Active at `when`: activated at or before it and not removed at or before it."""
        if self.activated_at is None or self.activated_at > when:
            return False
        return self.removed_at is None or when < self.removed_at

    def creator_suspended_at(self, when: dt.datetime) -> bool:
        """The creator was suspended at `when`: started_at ≤ when < ended_at."""
        return any(period.contains(when) for period in self.creator_suspensions)


@dataclass(frozen=True)
class ActivePeriod:
    """One stretch of time, start ≤ t < end (end None: not over yet): a campaign's active
    period, or a creator's suspension."""

    start: dt.datetime
    end: dt.datetime | None = None

    def __post_init__(self) -> None:
        if not _is_aware(self.start) or (self.end is not None and not _is_aware(self.end)):
            raise ValueError("An active period's bounds must be timezone-aware datetimes.")
        if self.end is not None and self.end < self.start:
            raise ValueError("An active period cannot end before it starts.")

    def contains(self, when: dt.datetime) -> bool:
        return self.start <= when and (self.end is None or when < self.end)


@dataclass(frozen=True)
class CampaignFact:
    """A campaign as attribution needs it.

    `active_periods` are the stretches in which the campaign's status was active (a pause
    ends one, a resume starts the next). The caller derives them from the campaign's
    status history; the campaigns app keeps the current status plus audit entries today,
    so a status-history table may be added to supply them cheaply. `terms_versions` are all
    of the campaign's `CampaignTerms`.
    """

    campaign_id: int
    currency: str
    active_periods: tuple[ActivePeriod, ...]
    terms_versions: tuple[TermsFact, ...]

    def active_at(self, when: dt.datetime) -> bool:
        return any(period.contains(when) for period in self.active_periods)


@dataclass(frozen=True)
class Attributed:
    """The order is credited to `collaboration_id`, by the `terms` in force at its time."""

    collaboration_id: int
    campaign_id: int
    via: Via
    terms: TermsFact


@dataclass(frozen=True)
class Unattributed:
    """The order earns nothing. `reason` is a stable code; `params` fill its message.

    `code_failure` holds why the code did not attribute either, when a click was tried
    first and failed (the click's reason is the one reported).
    """

    reason: str
    params: tuple[tuple[str, str], ...] = ()
    code_failure: Unattributed | None = None

    @property
    def message(self) -> str:
        """The reason in words, in the active language, with the code's failure after it."""
        text = str(REASON_MESSAGES[self.reason]) % dict(self.params)
        if self.code_failure is not None:
            text = f"{text} {self.code_failure.message}"
        return text

    def stored_params(self) -> dict[str, Any]:
        """The parameters as `Order.unattributed_params` keeps them (JSON), the code's
        failure nested under "code_failure"; `from_stored` reads them back."""
        params: dict[str, Any] = dict(self.params)
        if self.code_failure is not None:
            params["code_failure"] = {
                "reason": self.code_failure.reason,
                "params": self.code_failure.stored_params(),
            }
        return params

    @classmethod
    def from_stored(cls, reason: str, params: Mapping[str, Any] | None) -> Unattributed | None:
        """The reason as stored, or None if it is not one this code knows."""
        if reason not in REASON_MESSAGES:
            return None
        params = params if isinstance(params, Mapping) else {}
        failure = params.get("code_failure")
        code_failure = None
        if isinstance(failure, Mapping):
            code_failure = cls.from_stored(str(failure.get("reason", "")), failure.get("params"))
        return cls(
            reason=reason,
            params=tuple(sorted((k, str(v)) for k, v in params.items() if k != "code_failure")),
            code_failure=code_failure,
        )


def stored_reason_message(reason: str, params: Mapping[str, Any] | None) -> str:
    """A stored unattributed reason in words, in the active language; empty when it cannot
    be said (an unknown reason, or parameters that do not fill its message)."""
    unattributed = Unattributed.from_stored(reason, params)
    if unattributed is None:
        return ""
    try:
        return unattributed.message
    except (KeyError, TypeError, ValueError):
        return ""


Attribution = Attributed | Unattributed


def _when(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat()


def _unattributed(reason: str, **params: object) -> Unattributed:
    return Unattributed(reason=reason, params=tuple(sorted((k, str(v)) for k, v in params.items())))


def _check_collaboration(
    paid: OrderEventFact,
    collaboration: CollaborationFact,
    campaigns: Mapping[int, CampaignFact],
    via: Via,
    *,
    click: ClickFact | None = None,
) -> Attribution:
    """The checks shared by both paths, in the order their reasons are reported:
    (click window), collaboration active, creator not suspended, campaign active, terms in
    force, currency."""
    when = paid.occurred_at
    campaign = campaigns.get(collaboration.campaign_id)
    if campaign is None:
        return _unattributed(
            CAMPAIGN_NOT_ACTIVE, campaign_id=collaboration.campaign_id, occurred_at=_when(when)
        )
    terms = terms_at(campaign.terms_versions, when)
    # Inclusive boundary: a click exactly `window_days` before the order still counts.
    window_days = terms.attribution_window_days if terms is not None else None
    if (
        click is not None
        and window_days is not None
        and when - click.clicked_at > dt.timedelta(days=window_days)
    ):
        return _unattributed(
            CLICK_OUTSIDE_WINDOW,
            click_id=click.click_id,
            clicked_at=_when(click.clicked_at),
            occurred_at=_when(when),
            window_days=window_days,
        )
    if not collaboration.active_at(when):
        return _unattributed(
            COLLABORATION_NOT_ACTIVE,
            collaboration_id=collaboration.collaboration_id,
            occurred_at=_when(when),
        )
    if collaboration.creator_suspended_at(when):
        return _unattributed(
            CREATOR_SUSPENDED,
            collaboration_id=collaboration.collaboration_id,
            occurred_at=_when(when),
        )
    if not campaign.active_at(when):
        return _unattributed(
            CAMPAIGN_NOT_ACTIVE, campaign_id=campaign.campaign_id, occurred_at=_when(when)
        )
    if terms is None:
        return _unattributed(
            NO_TERMS_IN_FORCE, campaign_id=campaign.campaign_id, occurred_at=_when(when)
        )
    if paid.currency != campaign.currency.upper():
        return _unattributed(
            WRONG_CURRENCY,
            order_currency=paid.currency,
            campaign_id=campaign.campaign_id,
            campaign_currency=campaign.currency.upper(),
        )
    return Attributed(
        collaboration_id=collaboration.collaboration_id,
        campaign_id=campaign.campaign_id,
        via=via,
        terms=terms,
    )


def _attribute_click(
    paid: OrderEventFact,
    click: ClickFact | None,
    collaborations: Mapping[int, CollaborationFact],
    campaigns: Mapping[int, CampaignFact],
) -> Attribution:
    click_id = (paid.click_id or "").strip()
    if click is None:
        return _unattributed(UNKNOWN_CLICK, click_id=click_id)
    collaboration = collaborations.get(click.collaboration_id)
    if collaboration is None:
        return _unattributed(UNKNOWN_CLICK, click_id=click_id)
    if click.clicked_at > paid.occurred_at:
        return _unattributed(
            CLICK_AFTER_ORDER,
            click_id=click_id,
            clicked_at=_when(click.clicked_at),
            occurred_at=_when(paid.occurred_at),
        )
    return _check_collaboration(paid, collaboration, campaigns, "click", click=click)


def _code_rank(code: str, collaboration: CollaborationFact) -> int | None:
    """How closely a collaboration matches the typed code, best first, or None.

    0: its tracking code, exactly; 1: its discount code, ignoring case; 2: its tracking
    code, ignoring case (tracking codes mix cases, so two may fold to the same text).
    """
    folded = code.casefold()
    if collaboration.tracking_code is not None and collaboration.tracking_code == code:
        return 0
    if collaboration.discount_code is not None and collaboration.discount_code.casefold() == folded:
        return 1
    if collaboration.tracking_code is not None and collaboration.tracking_code.casefold() == folded:
        return 2
    return None


def _attribute_code(
    paid: OrderEventFact,
    code_matches: Sequence[CollaborationFact],
    campaigns: Mapping[int, CampaignFact],
) -> Attribution:
    code = (paid.code or "").strip()
    ranked: list[tuple[int, int, CollaborationFact]] = []
    for collaboration in code_matches:
        rank = _code_rank(code, collaboration)
        if rank is not None:
            ranked.append((rank, collaboration.collaboration_id, collaboration))
    ranked.sort(key=lambda item: (item[0], item[1]))
    if not ranked:
        return _unattributed(UNKNOWN_CODE, code=code)
    outcomes = [_check_collaboration(paid, c, campaigns, "code") for _, _, c in ranked]
    for outcome in outcomes:
        if isinstance(outcome, Attributed):
            return outcome
    return outcomes[0]


def attribute(
    paid: OrderEventFact,
    *,
    click: ClickFact | None,
    code_matches: Sequence[CollaborationFact],
    collaborations: Mapping[int, CollaborationFact],
    campaigns: Mapping[int, CampaignFact],
) -> Attribution:
    """Credit an order to a collaboration, or say why not (docs/earnings-rules.md, "Attribution").

    Arguments, fetched by the caller for the brand that sent the event:
    - `click`: the stored click that `paid.click_id` resolves to (`click_resolve`), None
      if it resolves to none (malformed, unknown, or not flushed from Redis yet).
    - `code_matches`: the brand's collaborations whose tracking code or discount code
      equals `paid.code` ignoring case (extra entries are ignored).
    - `collaborations`: the brand's collaborations by id (at least the click's).
    - `campaigns`: the campaigns of those collaborations by id.

    1. A click id that resolves to a valid click wins: a click of this brand, at or before
       the order's `occurred_at`, and no more than the attribution window (of the terms in
       force at the order's time) before it, boundary included.
    2. Otherwise the code: the best-matching collaboration that passes the checks (see
       `_code_rank`), else the best-matching one's reason.
    3. Whichever path: the collaboration active at the order's time, its creator not
       suspended then, the campaign active then, terms in force then, and the order in the
       campaign's currency.
    If the click fails and the code fails too (or is absent), the click's reason is
    reported, with the code's failure alongside.
    """
    if paid.type != ORDER_PAID:
        raise ValueError("Attribution is decided by the order.paid event.")
    has_click = bool(paid.click_id and paid.click_id.strip())
    has_code = bool(paid.code and paid.code.strip())
    click_outcome = _attribute_click(paid, click, collaborations, campaigns) if has_click else None
    if isinstance(click_outcome, Attributed):
        return click_outcome
    code_outcome = _attribute_code(paid, code_matches, campaigns) if has_code else None
    if isinstance(code_outcome, Attributed):
        return code_outcome
    if isinstance(click_outcome, Unattributed):
        return Unattributed(
            reason=click_outcome.reason,
            params=click_outcome.params,
            code_failure=code_outcome,
        )
    if code_outcome is not None:
        return code_outcome
    return _unattributed(NO_CODE_OR_CLICK)
