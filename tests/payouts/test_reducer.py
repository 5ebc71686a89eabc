"""The order reducer (docs/earnings-rules.md): set semantics, then the exact rules one by one."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from payouts.rules.reducer import (
    ERROR_MIXED_CURRENCIES,
    ORDER_CANCELLED,
    ORDER_PAID,
    ORDER_REFUNDED,
    OrderEventFact,
    reduce_order,
)

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def paid(
    event_id: str = "paid-1",
    amount: int = 10_000,
    *,
    at: dt.datetime = T0,
    received: dt.datetime | None = None,
    currency: str = "EUR",
    code: str | None = "OLA",
) -> OrderEventFact:
    return OrderEventFact(
        event_id=event_id,
        type=ORDER_PAID,
        occurred_at=at,
        received_at=received or at,
        amount_minor=amount,
        currency=currency,
        code=code,
    )


def refunded(
    event_id: str, amount: int, *, at: dt.datetime = T0, currency: str = "EUR"
) -> OrderEventFact:
    return OrderEventFact(
        event_id=event_id,
        type=ORDER_REFUNDED,
        occurred_at=at,
        received_at=at,
        amount_minor=amount,
        currency=currency,
    )


def cancelled(event_id: str, *, at: dt.datetime = T0, currency: str = "EUR") -> OrderEventFact:
    return OrderEventFact(
        event_id=event_id,
        type=ORDER_CANCELLED,
        occurred_at=at,
        received_at=at,
        amount_minor=None,
        currency=currency,
    )


# --- order independence (Hypothesis) --------------------------------------------------------

times = st.datetimes(
    min_value=dt.datetime(2026, 1, 1),
    max_value=dt.datetime(2026, 1, 3),
    timezones=st.just(dt.UTC),
)
# A small id alphabet, so that distinct events sometimes race for the same id.
event_ids = st.text(alphabet="abc12", min_size=1, max_size=3)


@st.composite
def order_events(draw: st.DrawFn, currencies: list[str] | None = None) -> list[OrderEventFact]:
    """One order's events: zero or more of each type, random times, ids and amounts."""
    currency_choice = st.sampled_from(currencies or ["EUR"])
    events: list[OrderEventFact] = []
    for _ in range(draw(st.integers(min_value=1, max_value=8))):
        kind = draw(st.sampled_from([ORDER_PAID, ORDER_PAID, ORDER_REFUNDED, ORDER_CANCELLED]))
        occurred = draw(times)
        events.append(
            OrderEventFact(
                event_id=draw(event_ids),
                type=kind,
                occurred_at=occurred,
                received_at=occurred + dt.timedelta(seconds=draw(st.integers(0, 10**6))),
                amount_minor=None
                if kind == ORDER_CANCELLED
                else draw(st.integers(min_value=0, max_value=50_000)),
                currency=draw(currency_choice),
                code=draw(st.none() | st.sampled_from(["OLA", "ola", "MAX"])),
                click_id=draw(st.none() | st.sampled_from(["c1", "c2"])),
            )
        )
    return events


@st.composite
def shuffled_with_duplicates(draw: st.DrawFn, events: list[OrderEventFact]) -> list[OrderEventFact]:
    copies = events + draw(st.lists(st.sampled_from(events), max_size=len(events) * 2))
    return draw(st.permutations(copies))


@settings(max_examples=300)
@given(data=st.data(), currencies=st.sampled_from([["EUR"], ["EUR", "PLN"]]))
def test_reduce_order_ignores_arrival_order_and_duplicates(
    data: st.DataObject, currencies: list[str]
) -> None:
    # given one order's events, and the same events shuffled with resent copies
    events = data.draw(order_events(currencies))
    arrival = data.draw(shuffled_with_duplicates(events))

    # when both are reduced
    expected = reduce_order(events)
    state = reduce_order(arrival)

    # then the states are identical, field by field
    assert state == expected


@settings(max_examples=300)
@given(events=order_events())
def test_reduce_order_net_amount_follows_the_formula(events: list[OrderEventFact]) -> None:
    # given one order's events in one currency
    # when they are reduced
    state = reduce_order(events)

    # then net = max(0, paid − refunds), 0 if cancelled, from an independent calculation
    unique = {e.event_id: e for e in sorted(events, key=lambda e: e._identity_key(), reverse=True)}
    paids = sorted(
        (e for e in unique.values() if e.type == ORDER_PAID),
        key=lambda e: (e.occurred_at, e.event_id),
    )
    refunds = sum(e.amount_minor or 0 for e in unique.values() if e.type == ORDER_REFUNDED)
    is_cancelled = any(e.type == ORDER_CANCELLED for e in unique.values())
    if not paids:
        assert state.awaiting_paid is True
        assert state.net_amount_minor == 0
        return
    paid_amount = paids[0].amount_minor or 0
    assert state.paid_event == paids[0]
    assert state.refunded_minor == refunds
    assert state.net_amount_minor == (0 if is_cancelled else max(0, paid_amount - refunds))
    assert state.over_refunded_minor == max(0, refunds - paid_amount)
    assert state.conflicts == tuple(sorted(e.event_id for e in paids[1:]))
    assert 0 <= state.net_amount_minor <= paid_amount


# --- the rules, exactly ---------------------------------------------------------------------


def test_paid_alone_gives_the_commissionable_amount() -> None:
    # given a paid order received an hour after it happened
    event = paid(amount=12_999, received=T0 + dt.timedelta(hours=1))

    # when it is reduced
    state = reduce_order([event])

    # then its amount, times and attribution inputs come from that event
    assert state.paid_event == event
    assert state.paid_amount_minor == 12_999
    assert state.net_amount_minor == 12_999
    assert state.currency == "EUR"
    assert state.occurred_at == T0
    assert state.paid_received_at == T0 + dt.timedelta(hours=1)
    assert state.awaiting_paid is False
    assert state.conflicts == ()
    assert state.over_refunded is False
    assert state.error is None


def test_the_same_event_id_counts_once() -> None:
    # given a refund sent three times
    events = [paid(amount=10_000), *[refunded("r-1", 3_000)] * 3]

    # when reduced
    state = reduce_order(events)

    # then it is subtracted once
    assert state.refunded_minor == 3_000
    assert state.net_amount_minor == 7_000
    assert state.event_ids == ("paid-1", "r-1")


def test_refund_before_paid_waits_for_it() -> None:
    # given a refund that arrived before its order.paid
    early = [refunded("r-1", 2_500)]

    # when reduced alone, then with the order.paid that follows
    waiting = reduce_order(early)
    complete = reduce_order([*early, paid(amount=10_000)])

    # then the order first waits with nothing payable, then nets the refund
    assert waiting.awaiting_paid is True
    assert waiting.paid_event is None
    assert waiting.net_amount_minor == 0
    assert waiting.refunded_minor == 2_500
    assert waiting.over_refunded_minor == 0
    assert complete.awaiting_paid is False
    assert complete.net_amount_minor == 7_500


def test_cancellation_before_paid_waits_and_then_zeroes_the_order() -> None:
    # given a cancellation that arrived before its order.paid
    early = [cancelled("c-1")]

    # when reduced alone, then with the order.paid
    waiting = reduce_order(early)
    complete = reduce_order([*early, paid(amount=10_000)])

    # then it waits, then the order is zero
    assert waiting.awaiting_paid is True
    assert waiting.cancelled is True
    assert waiting.net_amount_minor == 0
    assert complete.awaiting_paid is False
    assert complete.cancelled is True
    assert complete.net_amount_minor == 0
    assert complete.paid_amount_minor == 10_000


def test_partial_refunds_reduce_the_order() -> None:
    # given a 100.00 order with refunds of 20.00 and 30.50
    events = [paid(amount=10_000), refunded("r-1", 2_000), refunded("r-2", 3_050)]

    # when reduced
    state = reduce_order(events)

    # then 49.50 remains
    assert state.refunded_minor == 5_050
    assert state.net_amount_minor == 4_950
    assert state.over_refunded is False


def test_partial_refunds_summing_past_the_paid_amount_are_flagged_and_stop_at_zero() -> None:
    # given a 100.00 order with refunds of 60.00 and 55.00
    events = [paid(amount=10_000), refunded("r-1", 6_000), refunded("r-2", 5_500)]

    # when reduced
    state = reduce_order(events)

    # then both refunds are kept, 15.00 is flagged as excess, and the order is zero
    assert state.refunded_minor == 11_500
    assert state.over_refunded is True
    assert state.over_refunded_minor == 1_500
    assert state.net_amount_minor == 0


def test_a_refund_of_exactly_the_paid_amount_is_not_an_over_refund() -> None:
    # given a full refund
    events = [paid(amount=10_000), refunded("r-1", 10_000)]

    # when reduced
    state = reduce_order(events)

    # then the order is zero and nothing is flagged
    assert state.net_amount_minor == 0
    assert state.over_refunded_minor == 0


def test_a_second_different_paid_event_is_a_conflict_and_the_earliest_counts() -> None:
    # given two order.paid events, the later-occurring one sent first
    first = paid("paid-B", amount=10_000, at=T0)
    second = paid("paid-A", amount=99_000, at=T0 + dt.timedelta(seconds=1), code="MAX")

    # when reduced in either arrival order
    state = reduce_order([second, first])

    # then the earliest occurred_at counts and the other is flagged
    assert reduce_order([first, second]) == state
    assert state.paid_event == first
    assert state.paid_amount_minor == 10_000
    assert state.net_amount_minor == 10_000
    assert state.conflicts == ("paid-A",)


def test_paid_events_at_the_same_time_are_decided_by_the_smallest_event_id() -> None:
    # given three order.paid events at the same instant
    events = [paid("p-2", amount=200), paid("p-10", amount=1_000), paid("p-3", amount=300)]

    # when reduced
    state = reduce_order(events)

    # then "p-10" wins (ids compare as text, by code point) and the others conflict
    assert state.paid_event is not None
    assert state.paid_event.event_id == "p-10"
    assert state.net_amount_minor == 1_000
    assert state.conflicts == ("p-2", "p-3")


def test_cancel_after_paid_sets_the_order_to_zero() -> None:
    # given a paid order, partly refunded, then cancelled
    events = [paid(amount=10_000), refunded("r-1", 1_000), cancelled("c-1")]

    # when reduced
    state = reduce_order(events)

    # then it is zero, the paid amount and refunds are still reported
    assert state.cancelled is True
    assert state.net_amount_minor == 0
    assert state.paid_amount_minor == 10_000
    assert state.refunded_minor == 1_000
    assert state.over_refunded_minor == 0


def test_events_in_different_currencies_are_an_error_and_the_order_is_zero() -> None:
    # given an EUR order with a PLN refund
    events = [paid(amount=10_000, currency="EUR"), refunded("r-1", 1_000, currency="PLN")]

    # when reduced
    state = reduce_order(events)

    # then the order is flagged and counts as zero
    assert state.error == ERROR_MIXED_CURRENCIES
    assert state.error_message == (
        "The events of this order use different currencies; the order counts as zero until "
        "that is resolved."
    )
    assert state.currency is None
    assert state.net_amount_minor == 0
    assert state.over_refunded_minor == 0
    assert state.paid_amount_minor == 10_000


def test_conflicting_paid_events_in_different_currencies_are_an_error() -> None:
    # given two order.paid events in different currencies
    events = [paid("p-1", currency="EUR"), paid("p-2", currency="PLN")]

    # when reduced
    state = reduce_order(events)

    # then it is both a conflict and a currency error, worth zero
    assert state.conflicts == ("p-2",)
    assert state.error == ERROR_MIXED_CURRENCIES
    assert state.net_amount_minor == 0


def test_no_events_is_an_empty_order() -> None:
    # given no events / when reduced
    state = reduce_order([])

    # then nothing is paid, nothing waits
    assert state.paid_event is None
    assert state.awaiting_paid is False
    assert state.net_amount_minor == 0
    assert state.currency is None
    assert state.event_ids == ()


def test_copies_of_one_id_that_disagree_resolve_to_the_first_received() -> None:
    # given the same event id twice with different amounts, received an hour apart
    earlier = paid("p-1", amount=1_000, received=T0)
    later = paid("p-1", amount=2_000, received=T0 + dt.timedelta(hours=1))

    # when reduced in either order
    state = reduce_order([later, earlier])

    # then the copy received first is the event, as ingest keeps it
    assert reduce_order([earlier, later]) == state
    assert state.paid_event == earlier
    assert state.conflicts == ()
    assert state.net_amount_minor == 1_000


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"type": ORDER_PAID, "amount_minor": None}, "needs an amount"),
        ({"type": ORDER_REFUNDED, "amount_minor": -1}, "needs an amount"),
        ({"type": ORDER_CANCELLED, "amount_minor": 100}, "carries no amount"),
        ({"type": "order.shipped", "amount_minor": 100}, "Unknown order event type"),
        ({"type": ORDER_PAID, "amount_minor": 1, "currency": "eur"}, "ISO 4217"),
        ({"type": ORDER_PAID, "amount_minor": 1, "occurred_at": dt.datetime(2026, 1, 1)}, "aware"),
        ({"type": ORDER_PAID, "amount_minor": 1, "event_id": ""}, "needs an event id"),
    ],
)
def test_invalid_facts_cannot_be_built(kwargs: dict[str, object], message: str) -> None:
    # given the fields of an event that ingest would have rejected
    fields: dict[str, object] = {
        "event_id": "e-1",
        "occurred_at": T0,
        "received_at": T0,
        "currency": "EUR",
        **kwargs,
    }

    # when / then building the fact fails loudly
    with pytest.raises(ValueError, match=message):
        OrderEventFact(**fields)  # type: ignore[arg-type]
