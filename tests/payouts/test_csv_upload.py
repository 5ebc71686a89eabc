"""CSV upload of order events: reading, the preview, and the import through ingest."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from campaigns.models import Brand
from connect.models import AuditEntry
from payouts import csv_upload as service
from payouts.csv_upload import (
    CsvFileError,
    csv_preview,
    csv_rows,
    csv_upload_confirm,
    csv_upload_create,
    csv_upload_discard,
    csv_upload_import,
    csv_uploads_sweep,
)
from payouts.models import (
    CsvUpload,
    CsvUploadStatus,
    DuplicateOrderEvent,
    OrderEvent,
    RejectedOrderEvent,
)
from payouts.processing import order_events_process_all
from payouts.tasks_csv import csv_upload_process
from tests.campaigns.factories import BrandFactory, BrandMembershipFactory
from tests.payouts.pipeline import event, send

pytestmark = pytest.mark.django_db

HEADER = "id,type,order_id,occurred_at,amount,currency,code,click_id\n"


def stream(text: str, encoding: str = "utf-8") -> io.BytesIO:
    return io.BytesIO(text.encode(encoding))


def paid_line(n: int, *, order: str | None = None, amount: str = "10.00") -> str:
    return f"e{n},order.paid,{order or f'A-{n}'},2025-03-01T12:00:00Z,{amount},EUR,,\n"


def upload_file(text: str, name: str = "orders.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


@pytest.fixture
def brand() -> Brand:
    return BrandFactory()


def checked(brand: Brand, text: str, **kwargs: Any) -> CsvUpload:
    return csv_upload_create(brand=brand, actor=None, uploaded_file=upload_file(text), **kwargs)


def imported(upload: CsvUpload) -> CsvUpload:
    csv_upload_confirm(upload=upload, actor=None)
    csv_upload_process(upload.pk)  # the task's function, run here
    return CsvUpload.objects.get(pk=upload.pk)


# --- reading ------------------------------------------------------------------------------


def test_a_row_becomes_the_dict_the_api_gets_with_empty_cells_left_out() -> None:
    # given: a BOM, a semicolon-separated file and padded cells, as spreadsheets save them
    text = "\ufeffid;type;order_id;occurred_at;amount;currency;code;click_id\r\n"
    text += "e1; order.paid ;A-1;2025-03-01T12:00:00Z;129.99;EUR;;\r\n"
    text += "e2;order.cancelled;A-1;2025-03-02T12:00:00Z;;EUR;OLA;\r\n"

    # when
    rows = list(csv_rows(stream(text)))

    # then
    assert [(row.line, row.event) for row in rows] == [
        (
            2,
            {
                "id": "e1",
                "type": "order.paid",
                "order_id": "A-1",
                "occurred_at": "2025-03-01T12:00:00Z",
                "amount": "129.99",
                "currency": "EUR",
            },
        ),
        (
            3,
            {
                "id": "e2",
                "type": "order.cancelled",
                "order_id": "A-1",
                "occurred_at": "2025-03-02T12:00:00Z",
                "currency": "EUR",
                "code": "OLA",
            },
        ),
    ]


def test_optional_columns_may_be_left_out_and_columns_come_in_any_order() -> None:
    text = (
        "Currency,ID,type,order_id,occurred_at\nEUR,e1,order.cancelled,A-1,2025-03-01T12:00:00Z\n"
    )

    rows = list(csv_rows(stream(text)))

    assert rows[0].event == {
        "currency": "EUR",
        "id": "e1",
        "type": "order.cancelled",
        "order_id": "A-1",
        "occurred_at": "2025-03-01T12:00:00Z",
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "The file is empty."),
        ("\n\n", "The file is empty."),
        (
            "id,type,order,occurred_at,currency\n",
            "The header names columns we do not know: order.",
        ),
        ("id,type,order_id,currency\n", "The header has no column occurred_at."),
        ("id,type,order_id,occurred_at,currency,ID\n", "The header names id more than once."),
    ],
)
def test_a_file_without_the_right_header_is_refused_with_a_clear_error(
    text: str, message: str
) -> None:
    with pytest.raises(CsvFileError) as raised:
        list(csv_rows(stream(text)))

    assert raised.value.message.startswith(message)


def test_a_file_that_is_not_utf8_is_refused_naming_the_fix() -> None:
    text = HEADER + paid_line(1) + "e2,order.paid,Zamówienie,2025-03-01T12:00:00Z,1.00,PLN,,\n"

    with pytest.raises(CsvFileError) as raised:
        list(csv_rows(stream(text, encoding="cp1250")))

    assert "not UTF-8" in raised.value.message
    assert "CSV UTF-8" in raised.value.message


def test_line_numbers_count_blank_lines_and_values_spanning_lines() -> None:
    text = HEADER
    text += paid_line(1)  # line 2
    text += "\n"  # line 3, blank: skipped
    text += 'e3,order.paid,"A-\n3",2025-03-01T12:00:00Z,1.00,EUR,,\n'  # lines 4-5
    text += "e4,order.paid,A-4,2025-03-01T12:00:00Z,1,000.00,EUR,,\n"  # line 6: one cell too many

    rows = list(csv_rows(stream(text)))

    assert [row.line for row in rows] == [2, 4, 6]
    assert rows[1].event is not None and rows[1].event["order_id"] == "A-\n3"
    assert rows[2].event is None
    assert rows[2].error.startswith("Line 6 has 9 cells but the header has 8 columns")


# --- preview ------------------------------------------------------------------------------


def test_the_preview_counts_rows_and_lists_errors_with_their_lines(brand: Brand) -> None:
    # given: one event the brand already sent, and a file with good, bad and repeated rows
    send(brand, event("e1", order_id="A-1", amount="10.00"), process=False)
    text = HEADER
    text += paid_line(1)  # 2: already received
    text += paid_line(2)  # 3
    text += "e3,order.paid,A-3,2025-03-01T12:00:00Z,12.345,EUR,,\n"  # 4: too many decimals
    text += paid_line(2)  # 5: repeats line 3
    text += "e5,order.shipped,A-5,2025-03-01T12:00:00Z,1.00,EUR,,\n"  # 6: unknown type
    text += "e6,order.paid,A-6,2025-03-01 12:00,1.00,EUR,,\n"  # 7: not RFC 3339

    # when
    preview = csv_preview(brand=brand, stream=stream(text))

    # then
    assert (preview.total_rows, preview.valid_rows, preview.invalid_rows) == (6, 3, 3)
    assert (preview.file_duplicates, preview.known_duplicates) == (1, 1)
    assert preview.errors == [
        {
            "line": 4,
            "event_id": "e3",
            "error": "amount '12.345' has 3 decimals; EUR allows 2.",
        },
        {
            "line": 6,
            "event_id": "e5",
            "error": "type must be order.paid, order.refunded or order.cancelled, "
            "not order.shipped.",
        },
        {
            "line": 7,
            "event_id": "e6",
            "error": "occurred_at must be an RFC 3339 timestamp like 2025-03-01T12:30:00Z, "
            "not 2025-03-01 12:00.",
        },
    ]


def test_the_preview_keeps_only_the_first_fifty_errors_but_counts_them_all(brand: Brand) -> None:
    text = HEADER + "".join(paid_line(n, amount="-1") for n in range(120))

    preview = csv_preview(brand=brand, stream=stream(text))

    assert preview.invalid_rows == 120
    assert len(preview.errors) == 50
    assert preview.errors[-1]["line"] == 51


def test_checking_a_file_stores_no_event_and_keeps_the_file(brand: Brand) -> None:
    member = BrandMembershipFactory(brand=brand).user
    text = HEADER + paid_line(1) + paid_line(2, amount="abc")

    upload = csv_upload_create(
        brand=brand, actor=member, uploaded_file=upload_file(text), language="pl"
    )

    assert OrderEvent.objects.count() == 0
    assert RejectedOrderEvent.objects.count() == 0
    assert upload.status == CsvUploadStatus.PREVIEWED
    assert (upload.total_rows, upload.valid_rows, upload.invalid_rows) == (2, 1, 1)
    assert upload.uploaded_by == member
    assert upload.size_bytes == len(text)
    assert next(row.event for row in service.csv_upload_rows(upload.pk)) == {
        "id": "e1",
        "type": "order.paid",
        "order_id": "A-1",
        "occurred_at": "2025-03-01T12:00:00Z",
        "amount": "10.00",
        "currency": "EUR",
    }


def test_a_file_over_the_size_limit_or_without_rows_is_refused(brand: Brand, settings: Any) -> None:
    settings.ORDER_EVENTS_CSV_MAX_BYTES = 100
    text = HEADER + paid_line(1) + paid_line(2)
    with pytest.raises(ValidationError) as too_big:
        checked(brand, text)
    assert too_big.value.messages == [
        f"The file is {len(text)}\xa0bytes; the largest we take is 100\xa0bytes. "
        "Split it into smaller files."
    ]

    settings.ORDER_EVENTS_CSV_MAX_BYTES = 50 * 1024 * 1024
    with pytest.raises(ValidationError) as header_only:
        checked(brand, HEADER)
    assert header_only.value.messages == ["The file has a header but no rows of events."]
    assert CsvUpload.objects.count() == 0


# --- import ------------------------------------------------------------------------------


def test_the_import_stores_events_with_source_csv_and_counts_them(brand: Brand) -> None:
    # given: 2,500 rows (three chunks), one repeated id, one bad amount, one short row
    send(brand, event("e0", order_id="A-0"), process=False)
    lines = [paid_line(n) for n in range(2500)]
    lines[10] = paid_line(9)
    lines[20] = "e20,order.paid,A-20,2025-03-01T12:00:00Z,ten,EUR,,\n"
    lines[2400] = "e2400,order.paid\n"
    upload = checked(brand, HEADER + "".join(lines))
    assert (upload.valid_rows, upload.invalid_rows) == (2498, 2)
    assert (upload.file_duplicates, upload.known_duplicates) == (1, 1)

    # when
    upload = imported(upload)

    # then
    assert upload.status == CsvUploadStatus.DONE
    assert upload.rows_done == upload.total_rows == 2500
    assert (upload.accepted, upload.duplicates, upload.rejected) == (2496, 2, 2)
    assert upload.percent == 100
    csv_events = OrderEvent.objects.filter(brand=brand, source="csv")
    assert csv_events.count() == 2496
    assert csv_events.values("batch_id").distinct().count() == 3
    assert set(
        DuplicateOrderEvent.objects.filter(source="csv").values_list("event_id", flat=True)
    ) == {"e0", "e9"}
    refused = {r.event_id: r for r in RejectedOrderEvent.objects.filter(source="csv")}
    assert refused["e20"].error == "amount 'ten' is not a decimal amount like 129.99."
    assert refused[""].raw == {"line": 2402, "cells": ["e2400", "order.paid"]}
    assert refused[""].error.startswith("Line 2402 has 2 cells but the header has 8 columns")
    assert AuditEntry.objects.filter(action="payouts.csv_upload.confirmed").count() == 1


def test_the_imported_events_are_processed_like_api_events(brand: Brand) -> None:
    upload = imported(checked(brand, HEADER + paid_line(1)))

    order_events_process_all()

    stored = OrderEvent.objects.get(event_id="e1")
    assert upload.accepted == 1
    assert stored.outcome == "unattributed"
    assert stored.amount_minor == 1000


def test_a_resumed_import_skips_finished_chunks_and_counts_nothing_twice(
    brand: Brand, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: an import of 7 rows in chunks of 3 whose worker dies during the second chunk
    monkeypatch.setattr(service, "CHUNK_ROWS", 3)
    lines = [paid_line(n) for n in range(7)]
    lines[5] = "e5,order.paid,A-5,2025-03-01T12:00:00Z,0,EUR,,\n"
    upload = checked(brand, HEADER + "".join(lines))
    csv_upload_confirm(upload=upload, actor=None)
    real_ingest = service.order_events_ingest
    calls = {"n": 0}

    def dies_on_the_second_chunk(**kwargs: Any) -> Any:
        calls["n"] += 1
        result = real_ingest(**kwargs)  # stored in the chunk's transaction…
        if calls["n"] == 2:
            raise RuntimeError("worker killed")  # …which never commits
        return result

    monkeypatch.setattr(service, "order_events_ingest", dies_on_the_second_chunk)
    with pytest.raises(RuntimeError):
        csv_upload_import(upload_id=upload.pk)
    upload.refresh_from_db()
    assert (upload.status, upload.rows_done, upload.accepted) == ("running", 3, 3)
    assert OrderEvent.objects.count() == 3

    # when: the task runs again
    monkeypatch.setattr(service, "order_events_ingest", real_ingest)
    csv_upload_process(upload.pk)

    # then: every row is counted once
    upload.refresh_from_db()
    assert upload.status == CsvUploadStatus.DONE
    assert (upload.rows_done, upload.accepted, upload.duplicates, upload.rejected) == (7, 6, 0, 1)
    assert upload.attempts == 2
    assert OrderEvent.objects.count() == 6
    assert DuplicateOrderEvent.objects.count() == 0
    assert RejectedOrderEvent.objects.get().error == "amount must be greater than zero."

    # and: a third run (a redelivered message) changes nothing
    csv_upload_process(upload.pk)
    upload.refresh_from_db()
    assert (upload.rows_done, upload.accepted, upload.duplicates, upload.attempts) == (7, 6, 0, 2)


def test_an_import_that_keeps_stopping_is_marked_failed(brand: Brand) -> None:
    upload = checked(brand, HEADER + paid_line(1))
    csv_upload_confirm(upload=upload, actor=None)
    CsvUpload.objects.filter(pk=upload.pk).update(attempts=service.MAX_ATTEMPTS)

    upload = csv_upload_import(upload_id=upload.pk)

    assert upload.status == CsvUploadStatus.FAILED
    assert upload.error == "The import stopped 5 times; please contact us."
    assert OrderEvent.objects.count() == 0


def test_an_unconfirmed_upload_is_not_imported_and_confirming_twice_queues_once(
    brand: Brand, django_capture_on_commit_callbacks: Any
) -> None:
    upload = checked(brand, HEADER + paid_line(1))

    assert csv_upload_import(upload_id=upload.pk).status == CsvUploadStatus.PREVIEWED
    assert OrderEvent.objects.count() == 0

    with django_capture_on_commit_callbacks() as callbacks:
        csv_upload_confirm(upload=upload, actor=None)
        csv_upload_confirm(upload=upload, actor=None)
    assert len(callbacks) == 1
    upload.refresh_from_db()
    assert upload.status == CsvUploadStatus.QUEUED
    assert upload.confirmed_at is not None


def test_the_sweeper_sends_again_only_imports_that_stopped_moving(brand: Brand) -> None:
    stuck = checked(brand, HEADER + paid_line(1))
    moving = checked(brand, HEADER + paid_line(2))
    waiting = checked(brand, HEADER + paid_line(3))
    for upload in (stuck, moving):
        csv_upload_confirm(upload=upload, actor=None)
    long_ago = timezone.now() - dt.timedelta(minutes=10)
    CsvUpload.objects.filter(pk__in=[stuck.pk, waiting.pk]).update(updated_at=long_ago)

    assert csv_uploads_sweep() == 1
    stuck.refresh_from_db()
    assert stuck.updated_at > long_ago
    assert csv_uploads_sweep() == 0  # retries are spaced out


def test_only_a_checked_file_can_be_discarded(brand: Brand) -> None:
    kept = checked(brand, HEADER + paid_line(1))
    dropped = checked(brand, HEADER + paid_line(2))
    csv_upload_confirm(upload=kept, actor=None)

    csv_upload_discard(upload=dropped, actor=None)
    with pytest.raises(ValidationError):
        csv_upload_discard(upload=kept, actor=None)

    assert list(CsvUpload.objects.values_list("pk", flat=True)) == [kept.pk]


def test_someone_outside_the_brand_cannot_upload_for_it(brand: Brand) -> None:
    outsider = BrandMembershipFactory().user

    with pytest.raises(PermissionDenied, match="not a member"):
        csv_upload_create(brand=brand, actor=outsider, uploaded_file=upload_file(HEADER))
