"""Order event ingest: validate a batch a brand sent and store it in a few statements.

The contract is docs/integration-guide.md. A batch is 1 to 1000 events; each event is validated on
its own, with one clear error per refused event, and the valid ones are stored even when
others are refused. Storing is set-based: one `INSERT … SELECT FROM unnest(…) ON CONFLICT
(brand_id, event_id) DO NOTHING RETURNING` for the accepted events and one `INSERT … SELECT
FROM jsonb_to_recordset(…)` for the refused ones, in one transaction, whatever the batch
size; never a statement per event.

What ingest does not check: whether the currency is the campaign's. An event names no
campaign; which campaign (if any) it belongs to is decided when processing attributes the
order by its click id or code, and an event in another currency than that campaign's is
refused there, with the error on the event (`outcome` "rejected"). Ingest only checks that
the currency is an ISO 4217 code in use, and that the amount has no more decimals than it
allows.

Duplicates, by (brand, event id), are ignored and counted: both an id already stored and an
id repeated within the batch (the first occurrence is the one kept). The same batch posted
twice at once stores each event once: the unique index makes the second insert wait for the
first to commit and then skip its rows. Rows are inserted in event id order, so that two
overlapping batches take their index locks in the same order and cannot deadlock.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from babel.core import get_global
from babel.numbers import get_territory_currencies
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.models import Brand
from connect.money import MoneyError, to_minor
from payouts.bulk import json_rows, rows_source
from payouts.models import OrderEventSource, OrderEventType
from payouts.processing import order_events_enqueue
from payouts.rollups import rollups_events_received

MAX_EVENTS_PER_BATCH = 1000
MAX_ID_LENGTH = 100
MAX_CODE_LENGTH = 100

# RFC 3339 date-time: a full date, a time with seconds, an optional fraction and a zone
# (Z or ±hh:mm). A timestamp without a zone is refused rather than guessed.
_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?P<zone>[Zz]|[+-]\d{2}:\d{2})?$"
)


class BatchError(ValueError):
    """The body is not a batch at all (the whole request is refused with a 400)."""

    def __init__(self, message: str, *, field: str | None = "events") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class EventError(ValueError):
    """One event is refused; the message is what the brand reads, `field` the field at fault
    ("event" for the event as a whole), which the integration dashboard groups errors by."""

    def __init__(self, message: str, *, field: str = "event") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ValidOrderEvent:
    event_id: str
    type: str
    order_id: str
    occurred_at: dt.datetime
    amount_minor: int | None
    currency: str
    code: str | None
    click_id: uuid.UUID | None


@dataclass(frozen=True)
class RefusedOrderEvent:
    index: int
    event_id: str | None
    error: str


@dataclass(frozen=True)
class IngestResult:
    batch_id: uuid.UUID
    accepted: int
    duplicates: int
    rejected: list[RefusedOrderEvent]


@lru_cache(maxsize=1)
def iso_currencies() -> frozenset[str]:
    """ISO 4217 codes legal tender somewhere today (CLDR data shipped with babel); codes of
    withdrawn currencies (DEM, FRF) and test codes (XTS) are not in it."""
    today = dt.date.today()
    codes: set[str] = set()
    for territory in get_global("territory_currencies"):
        codes.update(get_territory_currencies(territory, today, tender=True))
    return frozenset(codes)


# ---------------------------------------------------------------------------------------
# Validation


def _shown(value: Any) -> str:
    """A sent value quoted in an error, cut short so that the error stays readable."""
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= 40 else text[:40] + "…"


def _string(event: dict[str, Any], field: str, *, max_length: int) -> str | None:
    """The field as a non-empty string, or None when absent, null or empty."""
    value = event.get(field)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise EventError(_("%(field)s must be a string.") % {"field": field}, field=field)
    if "\x00" in value:
        raise EventError(
            _("%(field)s must not contain a NUL character.") % {"field": field}, field=field
        )
    if len(value) > max_length:
        raise EventError(
            _("%(field)s must be at most %(max)s characters; this one has %(length)s.")
            % {"field": field, "max": max_length, "length": len(value)},
            field=field,
        )
    return value


def _required(event: dict[str, Any], field: str, *, max_length: int) -> str:
    value = _string(event, field, max_length=max_length)
    if value is None or not value.strip():
        raise EventError(_("%(field)s is required.") % {"field": field}, field=field)
    return value


def _occurred_at(event: dict[str, Any]) -> dt.datetime:
    text = _required(event, "occurred_at", max_length=40)
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise EventError(
            _("occurred_at must be an RFC 3339 timestamp like 2025-03-01T12:30:00Z, not %(value)s.")
            % {"value": _shown(text)},
            field="occurred_at",
        )
    if match.group("zone") is None:
        raise EventError(
            _("occurred_at must have a time zone: end it with Z or an offset like +01:00."),
            field="occurred_at",
        )
    try:
        # Python 3.11 reads every RFC 3339 form the pattern lets through ("Z" included).
        parsed = dt.datetime.fromisoformat(text.upper().replace(" ", "T"))
        return parsed.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        raise EventError(
            _("occurred_at is not a real date and time: %(value)s.") % {"value": _shown(text)},
            field="occurred_at",
        ) from None


def _currency(event: dict[str, Any]) -> str:
    code = _required(event, "currency", max_length=10).upper()
    if code not in iso_currencies():
        raise EventError(
            _("currency must be an ISO 4217 code like EUR, not %(value)s.")
            % {"value": _shown(event["currency"])},
            field="currency",
        )
    return code


def _amount_minor(event: dict[str, Any], event_type: str, currency: str) -> int | None:
    value = event.get("amount")
    if event_type == OrderEventType.CANCELLED:
        if value is not None:
            raise EventError(
                _("order.cancelled takes no amount: leave amount out."), field="amount"
            )
        return None
    if value is None or value == "":
        raise EventError(
            _("amount is required for %(type)s.") % {"type": event_type}, field="amount"
        )
    if not isinstance(value, str):
        raise EventError(
            _('amount must be a decimal string like "129.99", not %(value)s.')
            % {"value": _shown(value)},
            field="amount",
        )
    if len(value) > 40:
        raise EventError(
            _('amount must be a decimal string like "129.99", not %(value)s.')
            % {"value": _shown(value)},
            field="amount",
        )
    try:
        minor = to_minor(value, currency)
    except MoneyError as exc:
        # connect.money's own words: "'12.345' has 3 decimals; EUR allows 2."
        raise EventError(_("amount %(error)s") % {"error": str(exc)}, field="amount") from None
    if minor <= 0:
        raise EventError(_("amount must be greater than zero."), field="amount")
    return minor


def _click_id(event: dict[str, Any]) -> uuid.UUID | None:
    value = _string(event, "click_id", max_length=45)
    if value is None:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise EventError(
            _("click_id must be a UUID, not %(value)s.") % {"value": _shown(value)},
            field="click_id",
        ) from None


def order_event_validate(event: Any) -> ValidOrderEvent:
    """One event as sent, checked field by field; raises `EventError` with the first problem."""
    if not isinstance(event, dict):
        raise EventError(_("An event must be a JSON object."))
    event_id = _required(event, "id", max_length=MAX_ID_LENGTH)
    event_type = _required(event, "type", max_length=40)
    if event_type not in OrderEventType.values:
        raise EventError(
            _("type must be order.paid, order.refunded or order.cancelled, not %(value)s.")
            % {"value": _shown(event_type)},
            field="type",
        )
    order_id = _required(event, "order_id", max_length=MAX_ID_LENGTH)
    occurred_at = _occurred_at(event)
    currency = _currency(event)
    amount_minor = _amount_minor(event, event_type, currency)
    code = _string(event, "code", max_length=MAX_CODE_LENGTH)
    click_id = _click_id(event)
    return ValidOrderEvent(
        event_id=event_id,
        type=event_type,
        order_id=order_id,
        occurred_at=occurred_at,
        amount_minor=amount_minor,
        currency=currency,
        code=code,
        click_id=click_id,
    )


def order_events_from_body(body: Any) -> list[Any]:
    """The events list of a request body; raises `BatchError` when it is not a batch."""
    if not isinstance(body, dict):
        raise BatchError(_('Send a JSON object like {"events": [...]}.'), field=None)
    events = body.get("events")
    if not isinstance(events, list):
        raise BatchError(_('Send the events as a list under "events".'))
    if not events:
        raise BatchError(_("Send at least one event."))
    if len(events) > MAX_EVENTS_PER_BATCH:
        raise BatchError(
            _("Send at most %(max)s events per request; this one has %(count)s.")
            % {"max": MAX_EVENTS_PER_BATCH, "count": len(events)}
        )
    return events


# ---------------------------------------------------------------------------------------
# Storing

_INSERT_EVENTS = """
INSERT INTO payouts_orderevent (
    brand_id, event_id, type, order_id, occurred_at, amount_minor, currency, code, click_id,
    received_at, batch_id, source, outcome_reason
)
SELECT %(brand_id)s, e.event_id, e.type, e.order_id, e.occurred_at, e.amount_minor,
       e.currency, e.code, e.click_id, %(received_at)s, %(batch_id)s, %(source)s, ''
FROM {source}
ON CONFLICT (brand_id, event_id) DO NOTHING
RETURNING event_id
""".format(
    source=rows_source(
        [
            ("event_id", "varchar"),
            ("type", "varchar"),
            ("order_id", "varchar"),
            ("occurred_at", "timestamptz"),
            ("amount_minor", "bigint"),
            ("currency", "varchar"),
            ("code", "varchar"),
            ("click_id", "uuid"),
        ],
        alias="e",
    ).replace("%s", "%(rows)s")
)

_INSERT_DUPLICATES = """
INSERT INTO payouts_duplicateorderevent (brand_id, received_at, batch_id, source, event_id)
SELECT %(brand_id)s, %(received_at)s, %(batch_id)s, %(source)s, d.event_id
FROM unnest(%(event_id)s::varchar[]) AS d(event_id)
"""

_INSERT_REJECTED = """
INSERT INTO payouts_rejectedorderevent (
    brand_id, received_at, batch_id, source, index, event_id, raw, error, error_field
)
SELECT %(brand_id)s, %(received_at)s, %(batch_id)s, %(source)s, r.index, r.event_id, r.raw,
       r.error, r.error_field
FROM jsonb_to_recordset(%(rows)s::jsonb)
    AS r(index integer, event_id text, raw jsonb, error text, error_field text)
"""


def _storable_json(value: Any) -> str:
    # PostgreSQL's jsonb cannot hold U+0000; a refused event is kept for people to read.
    return json.dumps(value).replace("\\u0000", "\\ufffd")


@transaction.atomic
def order_events_ingest(
    *,
    brand: Brand,
    events: list[Any],
    source: str = OrderEventSource.API,
    received_at: dt.datetime | None = None,
) -> IngestResult:
    """Validate and store one batch for the brand; see the module docstring for the rules.

    Returns what the API answers: how many events were stored, how many were duplicates,
    and each refused event with its index in the batch and its error. `received_at` is
    now unless given: demo data and tests pass past times to recreate earlier days.
    """
    batch_id = uuid.uuid4()
    received_at = received_at or timezone.now()
    valid: dict[str, ValidOrderEvent] = {}
    in_batch_duplicate_ids: list[str] = []
    refused: list[RefusedOrderEvent] = []
    refused_rows: list[dict[str, Any]] = []
    for index, raw in enumerate(events):
        try:
            event = order_event_validate(raw)
        except EventError as exc:
            sent_id = raw.get("id") if isinstance(raw, dict) else None
            event_id = sent_id if isinstance(sent_id, str) else None
            refused.append(RefusedOrderEvent(index=index, event_id=event_id, error=str(exc)))
            refused_rows.append(
                {
                    "index": index,
                    "event_id": event_id or "",
                    "raw": raw,
                    "error": str(exc),
                    "error_field": exc.field,
                }
            )
            continue
        if event.event_id in valid:
            in_batch_duplicate_ids.append(event.event_id)
        else:
            valid[event.event_id] = event

    accepted = 0
    duplicate_ids: list[str] = []
    params: dict[str, Any] = {
        "brand_id": brand.pk,
        "received_at": received_at,
        "batch_id": batch_id,
        "source": str(source),
    }
    with connection.cursor() as cursor:
        if valid:
            rows = [valid[key] for key in sorted(valid)]
            cursor.execute(
                _INSERT_EVENTS,
                {
                    **params,
                    "rows": json_rows(
                        (
                            e.event_id,
                            e.type,
                            e.order_id,
                            e.occurred_at,
                            e.amount_minor,
                            e.currency,
                            e.code,
                            e.click_id,
                        )
                        for e in rows
                    ),
                },
            )
            stored = {row[0] for row in cursor.fetchall()}
            accepted = len(stored)
            duplicate_ids = [e.event_id for e in rows if e.event_id not in stored]
        duplicate_ids += in_batch_duplicate_ids
        if duplicate_ids:
            cursor.execute(_INSERT_DUPLICATES, {**params, "event_id": duplicate_ids})
        if refused_rows:
            cursor.execute(_INSERT_REJECTED, {**params, "rows": _storable_json(refused_rows)})
    # Last: the brand's counter row for the day is shared by its concurrent batches.
    rollups_events_received(
        brand_id=brand.pk,
        received_at=received_at,
        accepted=accepted,
        duplicates=len(duplicate_ids),
        refused_codes=[row["error_field"] for row in refused_rows],
    )
    if accepted:
        # One processing message per batch, once the events are committed. If the broker
        # is unreachable the events wait, stored, for the sweeper (`order_events_sweep`).
        transaction.on_commit(lambda: order_events_enqueue(batch_id), robust=True)
    return IngestResult(
        batch_id=batch_id,
        accepted=accepted,
        duplicates=len(duplicate_ids),
        rejected=refused,
    )
