"""The brand's order event pages: the event log, the order page and the CSV upload."""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone, translation

from campaigns.models import Brand, Collaboration
from connect.models import User
from payouts.csv_upload import csv_preview
from payouts.event_log import (
    KIND_DUPLICATE,
    KIND_EVENT,
    KIND_REJECTED,
    Cursor,
    EventLogFilters,
    event_log_page,
    unattributed_message,
)
from payouts.ingest import order_events_ingest
from payouts.models import CsvUpload, CsvUploadStatus, OrderEventSource
from tests.campaigns.factories import BrandMembershipFactory, CampaignFactory, CollaborationFactory
from tests.payouts.pipeline import event, send, yesterday

pytestmark = pytest.mark.django_db

LOG = "/brand/events/"
UPLOAD = "/brand/events/upload/"


@dataclass
class Shop:
    brand: Brand
    member: User
    collab: Collaboration

    @property
    def code(self) -> str:
        assert self.collab.discount_code is not None
        return self.collab.discount_code


@pytest.fixture
def shop() -> Shop:
    collab = CollaborationFactory(campaign=CampaignFactory(title="Spring run"))
    member = BrandMembershipFactory(brand=collab.brand).user
    return Shop(brand=collab.brand, member=member, collab=collab)


@pytest.fixture
def member_client(client: Client, shop: Shop) -> Client:
    client.force_login(shop.member)
    return client


@pytest.fixture
def every_outcome(shop: Shop) -> Shop:
    """One event of each kind the log shows, sent through ingest and processing."""
    code = shop.code
    send(shop.brand, event("p1", order_id="A-1", code=code))  # applied
    send(shop.brand, event("r2", "order.refunded", order_id="A-2", amount="5.00"))  # awaiting
    send(shop.brand, event("p3", order_id="A-3", code="NOPE"))  # unattributed
    send(shop.brand, event("p4", order_id="A-4", currency="PLN", code=code))  # rejected
    send(
        shop.brand,
        event("p5a", order_id="A-5", code=code, occurred_at=yesterday()),
        event(
            "p5b",
            order_id="A-5",
            amount="200.00",
            code=code,
            occurred_at=yesterday() + dt.timedelta(hours=1),
        ),
    )  # p5b: conflict
    send(shop.brand, event("p1", order_id="A-1", code=code))  # duplicate
    bad = event("bad1", order_id="A-7", amount="abc")
    order_events_ingest(brand=shop.brand, events=[bad])  # rejected at ingest
    send(shop.brand, event("p6", order_id="A-6"), process=False)  # processing
    return shop


def rows(client: Client, **query: str) -> list[tuple[str, str]]:
    response = client.get(LOG, query)
    assert response.status_code == 200
    return sorted((row.event_id, row.outcome) for row in response.context["page"].rows)


# --- the event log ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [
        ("applied", [("p1", "applied"), ("p5a", "applied")]),
        ("awaiting_paid", [("r2", "awaiting_paid")]),
        ("unattributed", [("p3", "unattributed")]),
        ("rejected", [("bad1", "rejected"), ("p4", "rejected")]),
        ("conflict", [("p5b", "conflict")]),
        ("processing", [("p6", "processing")]),
        ("duplicate", [("p1", "duplicate")]),
    ],
)
def test_the_log_filters_each_outcome(
    every_outcome: Shop, member_client: Client, outcome: str, expected: list[tuple[str, str]]
) -> None:
    assert rows(member_client, outcome=outcome) == expected


def test_the_log_lists_every_event_newest_first_with_its_reason(
    every_outcome: Shop, member_client: Client
) -> None:
    # when
    response = member_client.get(LOG)

    # then
    page = response.context["page"]
    assert [row.event_id for row in page.rows] == [
        "p6", "bad1", "p1", "p5b", "p5a", "p4", "p3", "r2", "p1",
    ]  # fmt: skip
    reasons = {(row.event_id, row.outcome): row.reason for row in page.rows}
    campaign_id = every_outcome.collab.campaign_id
    assert reasons == {
        ("p6", "processing"): "Received; waiting to be processed.",
        ("bad1", "rejected"): "amount 'abc' is not a decimal amount like 129.99.",
        ("p1", "duplicate"): "This event id was received before; this copy changed nothing.",
        ("p5b", "conflict"): "Another order.paid of this order counts (the earliest); this one "
        "is kept as a conflict and changes nothing.",
        ("p5a", "applied"): "",
        ("p4", "rejected"): f"The order is in PLN but campaign {campaign_id} pays in EUR; "
        "orders in another currency are not credited.",
        ("p3", "unattributed"): "The code NOPE is not a tracking code or discount code of this "
        "brand.",
        ("r2", "awaiting_paid"): "Waiting for the order.paid event of this order; it counts "
        "once that arrives.",
        ("p1", "applied"): "",
    }
    content = response.content.decode()
    assert 'href="/brand/orders/A-1/"' in content
    assert "€100.00" in content
    assert 'href="/brand/orders/A-7/"' not in content  # refused: no order behind it


def test_the_reason_is_shown_in_the_readers_language(
    every_outcome: Shop, member_client: Client
) -> None:
    response = member_client.get(LOG, {"outcome": "unattributed"}, HTTP_ACCEPT_LANGUAGE="pl")

    [row] = response.context["page"].rows
    assert row.reason == "Kod NOPE nie jest kodem śledzącym ani kodem rabatowym tej marki."
    assert "Bez atrybucji" in response.content.decode()


def test_a_click_reason_is_followed_by_the_codes_own_failure() -> None:
    params = {
        "click_id": "0192f1a4-7b3c-7d2e-8f00-0123456789ab",
        "code_failure": {"reason": "unknown_code", "params": {"code": "OLA"}},
    }

    with translation.override("en"):
        message = unattributed_message("unknown_click", params)

    assert message == (
        "The click id 0192f1a4-7b3c-7d2e-8f00-0123456789ab is not a click on one of this "
        "brand's tracking links. The code OLA is not a tracking code or discount code of "
        "this brand."
    )
    assert unattributed_message("unknown_click", {}) == ""  # parameters lost: no half text
    assert unattributed_message("no_such_reason", {}) == ""


def test_the_log_filters_by_source_ids_and_days(every_outcome: Shop, member_client: Client) -> None:
    order_events_ingest(
        brand=every_outcome.brand,
        events=[event("c1", order_id="C-1")],
        source=OrderEventSource.CSV,
    )
    today = timezone.localdate().isoformat()
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()

    assert rows(member_client, source="csv") == [("c1", "processing")]
    assert ("c1", "processing") not in rows(member_client, source="api")
    assert rows(member_client, event_id="p1") == [("p1", "applied"), ("p1", "duplicate")]
    assert rows(member_client, order_id="A-1") == [("p1", "applied"), ("p1", "duplicate")]
    assert rows(member_client, order_id="A-7") == [("bad1", "rejected")]
    assert rows(member_client, order_id="A-5", outcome="conflict") == [("p5b", "conflict")]
    assert len(rows(member_client, received_from=today, received_to=today)) == 10
    assert rows(member_client, received_from=tomorrow) == []
    bad_range = member_client.get(LOG, {"received_from": tomorrow, "received_to": today})
    assert "Pick a day on or after the first one." in bad_range.content.decode()


def test_pages_walk_the_whole_log_in_order_both_ways(shop: Shop) -> None:
    # given: two batches mixing stored, refused and duplicate events at one received_at each
    first = [event(f"a{n}", order_id=f"A-{n}") for n in range(5)]
    first += [event("a0", order_id="A-0"), {"id": "x1"}, {"id": "x2"}, event("a1")]
    order_events_ingest(brand=shop.brand, events=first)
    second = [event(f"b{n}", order_id=f"B-{n}") for n in range(3)] + [event("a2"), {"id": "x3"}]
    order_events_ingest(brand=shop.brand, events=second)
    everything = event_log_page(brand=shop.brand, filters=EventLogFilters(), page_size=100).rows
    keys = [(row.kind, row.pk) for row in everything]
    assert len(keys) == 14
    assert [row.cursor for row in everything] == sorted(
        (row.cursor for row in everything), reverse=True
    )
    assert {row.kind for row in everything} == {KIND_EVENT, KIND_REJECTED, KIND_DUPLICATE}

    # when: walking older pages of 4, then newer pages back
    pages = []
    cursor: Cursor | None = None
    while True:
        page = event_log_page(
            brand=shop.brand, filters=EventLogFilters(), cursor=cursor, page_size=4
        )
        pages.append([(row.kind, row.pk) for row in page.rows])
        if page.older is None:
            break
        cursor = page.older
    back = [pages[-1]]
    newer = event_log_page(
        brand=shop.brand, filters=EventLogFilters(), cursor=cursor, page_size=4
    ).newer
    while newer is not None:
        page = event_log_page(
            brand=shop.brand, filters=EventLogFilters(), cursor=newer, older=False, page_size=4
        )
        back.append([(row.kind, row.pk) for row in page.rows])
        newer = page.newer

    # then
    assert [len(p) for p in pages] == [4, 4, 4, 2]
    assert [key for p in pages for key in p] == keys
    assert back == list(reversed(pages))


def test_a_cursor_that_is_not_ours_shows_the_first_page(shop: Shop, member_client: Client) -> None:
    send(shop.brand, event("p1"), process=False)

    response = member_client.get(LOG, {"before": "'; DROP TABLE x"})

    assert [row.event_id for row in response.context["page"].rows] == ["p1"]
    assert Cursor.decode("99999999999999999999.1.1") is None


# --- the order page ---------------------------------------------------------------------


def test_the_order_page_shows_amounts_attribution_events_and_commission_history(
    shop: Shop, member_client: Client
) -> None:
    # given: a paid order credited by code, then partly refunded
    send(shop.brand, event("p1", order_id="A/1", amount="129.99", code=shop.code.lower()))
    send(shop.brand, event("r1", "order.refunded", order_id="A/1", amount="29.99"))

    # when
    response = member_client.get("/brand/orders/A/1/")

    # then
    assert response.status_code == 200
    page = response.context["page"]
    assert page.order.net_amount_minor == 10000
    assert [(row.event_id, row.outcome) for row in page.events] == [
        ("p1", "applied"),
        ("r1", "applied"),
    ]
    [commission] = page.commissions
    assert commission.amount_minor == 1000
    assert [(c.item.kind, c.item.pending_minor) for c in page.history] == [
        ("commission", 1300),
        ("commission_adjustment", -300),
    ]
    content = response.content.decode()
    for text in (
        f"@{shop.collab.creator.handle}",
        "Spring run",
        "Credited by the creator's code.",
        "€129.99",
        "€29.99",
        "€100.00",
        "Commission adjustment",
        "+€13.00",
        "-€3.00",
    ):
        assert text in content, text


def test_the_order_page_says_why_an_order_earns_nothing(shop: Shop, member_client: Client) -> None:
    send(shop.brand, event("p1", order_id="A-1", code="NOPE"))
    order_events_ingest(brand=shop.brand, events=[event("p2", order_id="A-1", amount="1.234")])

    response = member_client.get("/brand/orders/A-1/")

    page = response.context["page"]
    assert page.reason == "The code NOPE is not a tracking code or discount code of this brand."
    assert page.commissions == []
    assert [(row.event_id, row.reason) for row in page.refused] == [
        ("p2", "amount '1.234' has 3 decimals; EUR allows 2.")
    ]
    assert "Not credited to any creator" in response.content.decode()


def test_an_order_whose_events_wait_shows_them_as_being_processed(
    shop: Shop, member_client: Client
) -> None:
    send(shop.brand, event("p1", order_id="A-1"), process=False)

    response = member_client.get("/brand/orders/A-1/")

    assert response.status_code == 200
    assert response.context["page"].order is None
    assert "Being processed" in response.content.decode()


# --- permissions -------------------------------------------------------------------------


def test_another_brands_member_sees_none_of_the_brands_events_orders_or_uploads(
    every_outcome: Shop, client: Client
) -> None:
    # given: a member of another brand, and an upload of the first brand
    upload = CsvUpload.objects.create(
        brand=every_outcome.brand, file_name="a.csv", size_bytes=1, content_gz=b"", total_rows=1
    )
    client.force_login(BrandMembershipFactory().user)

    # then
    assert rows(client) == []
    assert rows(client, order_id="A-1") == []
    assert client.get("/brand/orders/A-1/").status_code == 404
    base = f"{UPLOAD}{upload.pk}/"
    assert client.get(base).status_code == 404
    assert client.get(f"{base}status.json").status_code == 404
    assert client.post(f"{base}confirm/").status_code == 404
    assert client.post(f"{base}discard/").status_code == 404
    upload.refresh_from_db()
    assert upload.status == CsvUploadStatus.PREVIEWED


def test_the_pages_ask_visitors_to_sign_in(client: Client) -> None:
    for url in (LOG, "/brand/orders/A-1/", UPLOAD, f"{UPLOAD}1/", f"{UPLOAD}1/status.json"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


# --- the CSV upload pages ----------------------------------------------------------------


def test_uploading_shows_the_preview_then_confirming_queues_the_import(
    shop: Shop, member_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    text = "id,type,order_id,occurred_at,amount,currency,code,click_id\n"
    text += "e1,order.paid,A-1,2025-03-01T12:00:00Z,10.00,EUR,,\n"
    text += "e2,order.paid,A-2,2025-03-01T12:00:00Z,10.00,EURO,,\n"
    file = SimpleUploadedFile("march.csv", text.encode(), content_type="text/csv")

    # when: the file is uploaded
    response = member_client.post(UPLOAD, {"file": file})

    # then: the preview, and nothing stored
    upload = CsvUpload.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{UPLOAD}{upload.pk}/"
    preview = member_client.get(response["Location"])
    content = preview.content.decode()
    assert "march.csv" in content
    assert 'data-error-line="3"' in content
    assert "currency must be an ISO 4217 code like EUR, not EURO." in content
    assert "Confirm and import" in content

    # when: confirmed
    with django_capture_on_commit_callbacks() as callbacks:
        confirmed = member_client.post(f"{UPLOAD}{upload.pk}/confirm/")

    # then: queued, with a progress page and its status
    assert confirmed.status_code == 302
    assert len(callbacks) == 1
    status = json.loads(member_client.get(f"{UPLOAD}{upload.pk}/status.json").content)
    assert status == {
        "status": "queued",
        "status_label": "Queued",
        "finished": False,
        "percent": 0,
        "rows_done": 0,
        "total_rows": 2,
        "accepted": 0,
        "duplicates": 0,
        "rejected": 0,
        "error": "",
    }
    progress = member_client.get(f"{UPLOAD}{upload.pk}/").content.decode()
    assert 'id="csv-progress"' in progress
    assert "js/csv_upload.js" in progress


def test_a_file_that_cannot_be_read_is_refused_on_the_form(
    shop: Shop, member_client: Client
) -> None:
    file = SimpleUploadedFile("orders.csv", b"order,amount\nA-1,10\n", content_type="text/csv")

    response = member_client.post(UPLOAD, {"file": file})

    assert response.status_code == 200
    assert "The header names columns we do not know: order." in response.content.decode()
    assert CsvUpload.objects.count() == 0


def test_a_checked_file_can_be_discarded(shop: Shop, member_client: Client) -> None:
    text = (
        "id,type,order_id,occurred_at,currency\ne1,order.cancelled,A-1,2025-03-01T12:00:00Z,EUR\n"
    )
    member_client.post(UPLOAD, {"file": SimpleUploadedFile("a.csv", text.encode())})
    upload = CsvUpload.objects.get()

    response = member_client.post(f"{UPLOAD}{upload.pk}/discard/", follow=True)

    assert "“a.csv” is discarded; nothing was imported." in response.content.decode()
    assert CsvUpload.objects.count() == 0


def test_the_template_file_is_a_valid_upload(shop: Shop, member_client: Client) -> None:
    response = member_client.get(f"{UPLOAD}template.csv")

    body: Any = b"".join(response)
    preview = csv_preview(brand=shop.brand, stream=io.BytesIO(body))
    assert (preview.valid_rows, preview.invalid_rows) == (3, 0)
