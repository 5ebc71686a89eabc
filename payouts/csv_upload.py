"""CSV upload of order events, for brands without developers.

A file has a header row naming the API's event fields (docs/integration-guide.md) and one event per
row; an empty cell is an absent field. It goes through two steps:

1. `csv_upload_create` checks the whole file without storing any event: every row is
   mapped to the dict the API would get and validated by `order_event_validate`, so the
   brand sees the same errors, with line numbers, before anything counts. The file is
   streamed (never held as rows in memory); the preview keeps counts and the first errors,
   and the file itself is kept, compressed, for the next step.
2. `csv_upload_confirm` queues the import; `csv_upload_import` (the worker) feeds the rows
   to `order_events_ingest` in chunks of `CHUNK_ROWS`, exactly as API batches, so stored
   events are processed the same way. Each chunk's ingest and the upload's progress
   counters commit in one transaction: a retried or resumed import skips the chunks that
   are done and counts nothing twice (and ingest ignores an event id it already has).

Rows the preview refused are imported as refused events too (`RejectedOrderEvent`, with the
same error), so that the brand's event log lists everything the file held.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import logging
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any, cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from campaigns.models import Brand
from campaigns.permissions import require_brand_member
from connect.audit import audit_record
from connect.models import User
from payouts.ingest import EventError, order_event_validate, order_events_ingest
from payouts.models import (
    CsvUpload,
    CsvUploadStatus,
    OrderEventSource,
    RejectedOrderEvent,
)

logger = logging.getLogger(__name__)

# The API's event fields, in the order the template file lists them.
CSV_COLUMNS = ("id", "type", "order_id", "occurred_at", "amount", "currency", "code", "click_id")
REQUIRED_COLUMNS = ("id", "type", "order_id", "occurred_at", "currency")
CHUNK_ROWS = 1000
PREVIEW_ERROR_LIMIT = 50
MAX_ATTEMPTS = 5
# Spreadsheets in much of Europe save "CSV" with semicolons; tabs come from copy and paste.
_DELIMITERS = (",", ";", "\t")


class CsvFileError(ValueError):
    """The file as a whole cannot be read; the message is what the brand reads."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class CsvRow:
    """One data row: the event as the API would get it, or why the row is not one."""

    line: int  # where the row starts in the file (the header is line 1)
    event: dict[str, str] | None
    error: str = ""
    cells: tuple[str, ...] = ()


@dataclass
class CsvPreview:
    """What the check found: counts over the whole file and its first errors."""

    total_rows: int = 0
    valid_rows: int = 0
    invalid_rows: int = 0
    file_duplicates: int = 0
    known_duplicates: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)


# ---------------------------------------------------------------------------------------
# Reading


def _delimiter(header_line: str) -> str:
    counts = {delimiter: header_line.count(delimiter) for delimiter in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _columns(cells: list[str]) -> list[str]:
    columns = [cell.strip().lower() for cell in cells]
    unknown = [c for c in columns if c not in CSV_COLUMNS]
    if unknown:
        raise CsvFileError(
            _(
                "The header names columns we do not know: %(unknown)s. The columns are "
                "%(columns)s (the first row of the file must name them)."
            )
            % {"unknown": ", ".join(unknown) or '""', "columns": ", ".join(CSV_COLUMNS)}
        )
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        raise CsvFileError(
            _("The header names %(columns)s more than once.") % {"columns": ", ".join(repeated)}
        )
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise CsvFileError(
            _(
                "The header has no column %(missing)s. Every file needs %(required)s; "
                "amount, code and click_id are optional."
            )
            % {"missing": ", ".join(missing), "required": ", ".join(REQUIRED_COLUMNS)}
        )
    return columns


def _row(columns: list[str], cells: list[str], line: int) -> CsvRow | None:
    """The row as an event dict (empty cells left out), an error row, or None when blank."""
    if not any(cell.strip() for cell in cells):
        return None
    width = len(columns)
    # Exactly as many cells as columns: a separator inside an unquoted value shifts the
    # cells after it, and reading such a row anyway would put values in the wrong fields.
    if len(cells) != width:
        return CsvRow(
            line=line,
            event=None,
            error=_(
                "Line %(line)s has %(cells)s cells but the header has %(columns)s columns: "
                "check for a separator inside a value (put such values in double quotes)."
            )
            % {"line": line, "cells": len(cells), "columns": width},
            cells=tuple(cells),
        )
    event = {
        column: value
        for column, cell in zip(columns, cells, strict=True)
        if (value := cell.strip())
    }
    return CsvRow(line=line, event=event)


def csv_rows(stream: IO[bytes]) -> Iterator[CsvRow]:
    """The data rows of a CSV file, read as a stream (UTF-8, with or without a BOM).

    Raises `CsvFileError` when the file as a whole cannot be read: empty, not UTF-8, not
    CSV, or a header that does not name the API's fields.
    """
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    line = 1
    try:
        header_line = text.readline()
        if not header_line.strip():
            raise CsvFileError(
                _("The file is empty. Its first row must name the columns: %(columns)s.")
                % {"columns": ", ".join(CSV_COLUMNS)}
            )
        delimiter = _delimiter(header_line)
        columns = _columns(next(csv.reader([header_line], delimiter=delimiter)))
        reader = csv.reader(text, delimiter=delimiter)
        for cells in reader:
            start = line + 1
            line = 1 + reader.line_num
            row = _row(columns, cells, start)
            if row is not None:
                yield row
    except UnicodeDecodeError:
        raise CsvFileError(
            _(
                "The file is not UTF-8 text (after line %(line)s). In your spreadsheet, save "
                "it as “CSV UTF-8” and upload it again."
            )
            % {"line": line}
        ) from None
    except csv.Error as exc:
        raise CsvFileError(
            _("Line %(line)s cannot be read as CSV: %(error)s.") % {"line": line + 1, "error": exc}
        ) from None
    finally:
        text.detach()


def _chunks(rows: Iterable[CsvRow], size: int) -> Iterator[tuple[int, list[CsvRow]]]:
    """(index of the first row, rows) for consecutive chunks of `size` rows."""
    chunk: list[CsvRow] = []
    start = 0
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield start, chunk
            start += size
            chunk = []
    if chunk:
        yield start, chunk


# ---------------------------------------------------------------------------------------
# Preview


def _known_count(brand: Brand, event_ids: list[str]) -> int:
    """How many of these ids the brand already sent (one array parameter, so that the
    query stays one short statement however many ids it checks)."""
    if not event_ids:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM payouts_orderevent "
            "WHERE brand_id = %s AND event_id = ANY(%s::varchar[])",
            [brand.pk, event_ids],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def csv_preview(*, brand: Brand, stream: IO[bytes]) -> CsvPreview:
    """Check every row of the file as the API would, storing nothing.

    Counts valid and invalid rows, event ids repeated within the file and ids the brand has
    already sent (both will be counted as duplicates and change nothing), and keeps the
    first `PREVIEW_ERROR_LIMIT` errors with their line numbers.
    """
    preview = CsvPreview()
    seen: set[str] = set()
    unchecked: list[str] = []
    for row in csv_rows(stream):
        preview.total_rows += 1
        error = row.error
        if row.event is not None:
            try:
                event = order_event_validate(row.event)
            except EventError as exc:
                error = str(exc)
            else:
                preview.valid_rows += 1
                if event.event_id in seen:
                    preview.file_duplicates += 1
                else:
                    seen.add(event.event_id)
                    unchecked.append(event.event_id)
                    if len(unchecked) == CHUNK_ROWS:
                        preview.known_duplicates += _known_count(brand, unchecked)
                        unchecked = []
                continue
        preview.invalid_rows += 1
        if len(preview.errors) < PREVIEW_ERROR_LIMIT:
            event_id = (row.event or {}).get("id", "")
            preview.errors.append({"line": row.line, "event_id": event_id, "error": error})
    preview.known_duplicates += _known_count(brand, unchecked)
    if preview.total_rows == 0:
        raise CsvFileError(_("The file has a header but no rows of events."))
    return preview


def _compressed(uploaded_file: UploadedFile) -> bytes:
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=5, mtime=0) as gz:
        for chunk in uploaded_file.chunks():
            gz.write(chunk)
    return buffer.getvalue()


def csv_max_bytes() -> int:
    return int(settings.ORDER_EVENTS_CSV_MAX_BYTES)


def csv_upload_create(
    *, brand: Brand, actor: User | None, uploaded_file: UploadedFile, language: str = ""
) -> CsvUpload:
    """Check an uploaded file and keep it for confirmation; no event is stored yet.

    Raises `ValidationError` (code "file") when the file as a whole is refused: too large,
    empty, not UTF-8, not CSV, or without the required columns. The check only reads, so it
    runs outside a transaction; the upload row is then written in one statement.
    """
    if actor is not None:
        require_brand_member(actor, brand)
    size = uploaded_file.size or 0
    if size > csv_max_bytes():
        raise ValidationError(
            _("The file is %(size)s; the largest we take is %(max)s. Split it into smaller files.")
            % {"size": filesizeformat(size), "max": filesizeformat(csv_max_bytes())},
            code="file",
        )
    uploaded_file.seek(0)
    try:
        preview = csv_preview(brand=brand, stream=uploaded_file.file)  # type: ignore[arg-type]
    except CsvFileError as exc:
        raise ValidationError(exc.message, code="file") from None
    upload = CsvUpload.objects.create(
        brand=brand,
        uploaded_by=actor if actor is not None and actor.pk else None,
        file_name=(uploaded_file.name or "events.csv")[:255],
        size_bytes=size,
        content_gz=_compressed(uploaded_file),
        language=language,
        total_rows=preview.total_rows,
        valid_rows=preview.valid_rows,
        invalid_rows=preview.invalid_rows,
        file_duplicates=preview.file_duplicates,
        known_duplicates=preview.known_duplicates,
        preview_errors=preview.errors,
    )
    return upload


# ---------------------------------------------------------------------------------------
# Confirming and discarding


def csv_upload_enqueue(upload_id: int) -> bool:
    """Ask a worker to import the upload. Never raises: if the broker cannot take the
    message, the upload stays queued and the sweeper sends it again."""
    from payouts.tasks_csv import csv_upload_process

    try:
        csv_upload_process.apply_async(args=[upload_id], retry=False)
    except Exception:  # noqa: BLE001 - any broker failure; the sweeper recovers
        logger.warning("Could not enqueue CSV upload %s; the sweeper will.", upload_id)
        return False
    return True


@transaction.atomic
def csv_upload_confirm(*, upload: CsvUpload, actor: User | None) -> CsvUpload:
    """Queue the import of a checked file; confirming twice queues it once."""
    if actor is not None:
        require_brand_member(actor, upload.brand)
    upload = CsvUpload.objects.select_for_update().get(pk=upload.pk)
    if upload.status != CsvUploadStatus.PREVIEWED:
        return upload
    upload.status = CsvUploadStatus.QUEUED
    upload.confirmed_at = timezone.now()
    upload.save(update_fields=["status", "confirmed_at", "updated_at"])
    audit_record(
        actor=actor,
        action="payouts.csv_upload.confirmed",
        target=upload,
        before={"status": CsvUploadStatus.PREVIEWED},
        after={"status": upload.status, "file": upload.file_name, "rows": upload.total_rows},
    )
    upload_id = upload.pk
    transaction.on_commit(lambda: csv_upload_enqueue(upload_id), robust=True)
    return upload


@transaction.atomic
def csv_upload_discard(*, upload: CsvUpload, actor: User | None) -> None:
    """Forget a checked file that was not confirmed."""
    if actor is not None:
        require_brand_member(actor, upload.brand)
    upload = CsvUpload.objects.select_for_update().get(pk=upload.pk)
    if upload.status != CsvUploadStatus.PREVIEWED:
        raise ValidationError(
            _("This file is already being imported, so it cannot be discarded."), code="status"
        )
    audit_record(
        actor=actor,
        action="payouts.csv_upload.discarded",
        target=upload,
        before={"status": upload.status, "file": upload.file_name},
    )
    upload.delete()


# ---------------------------------------------------------------------------------------
# Importing (the worker)


def csv_upload_rows(upload_id: int) -> Iterator[CsvRow]:
    """The rows of a kept file, read again from its compressed copy."""
    content = CsvUpload.objects.filter(pk=upload_id).values_list("content_gz", flat=True).get()
    with gzip.GzipFile(fileobj=io.BytesIO(bytes(content)), mode="rb") as stream:
        yield from csv_rows(cast(IO[bytes], stream))


def _transition(upload: CsvUpload, status: str) -> None:
    if status not in CsvUpload.TRANSITIONS[upload.status]:
        raise ValueError(f"CSV upload {upload.pk}: {upload.status} cannot become {status}.")
    upload.status = status


def _finish(upload_id: int, status: str, *, error: str = "") -> CsvUpload:
    with transaction.atomic():
        upload = CsvUpload.objects.select_for_update().get(pk=upload_id)
        if status in CsvUpload.TRANSITIONS[upload.status]:
            _transition(upload, status)
            upload.error = error
            upload.finished_at = timezone.now()
            upload.save(update_fields=["status", "error", "finished_at", "updated_at"])
    return upload


def _refused_rows(
    brand: Brand, rows: list[CsvRow], *, batch_id: uuid.UUID, first_index: int
) -> list[RejectedOrderEvent]:
    """Rows whose cells do not fit the header, kept as refused events (no dict to ingest)."""
    now = timezone.now()
    return [
        RejectedOrderEvent(
            brand=brand,
            received_at=now,
            batch_id=batch_id,
            index=first_index + offset,
            event_id="",
            raw={"line": row.line, "cells": list(row.cells)},
            error=row.error,
            source=OrderEventSource.CSV,
        )
        for offset, row in enumerate(rows)
    ]


def _import_chunk(upload_id: int, brand: Brand, start: int, rows: list[CsvRow]) -> bool:
    """Ingest one chunk and count it, in one transaction; False when the import stopped."""
    with transaction.atomic():
        upload = CsvUpload.objects.select_for_update().get(pk=upload_id)
        if upload.status != CsvUploadStatus.RUNNING:
            return False
        end = start + len(rows)
        if upload.rows_done >= end:
            return True  # an earlier run imported this chunk
        rows = rows[max(0, upload.rows_done - start) :]
        events = [row.event for row in rows if row.event is not None]
        unreadable = [row for row in rows if row.event is None]
        batch_id = uuid.uuid4()
        if events:
            result = order_events_ingest(brand=brand, events=events, source=OrderEventSource.CSV)
            batch_id = result.batch_id
            upload.accepted += result.accepted
            upload.duplicates += result.duplicates
            upload.rejected += len(result.rejected)
        if unreadable:
            RejectedOrderEvent.objects.bulk_create(
                _refused_rows(brand, unreadable, batch_id=batch_id, first_index=len(events))
            )
            upload.rejected += len(unreadable)
        upload.rows_done = end
        upload.save(update_fields=["rows_done", "accepted", "duplicates", "rejected", "updated_at"])
    return True


def csv_upload_import(*, upload_id: int) -> CsvUpload:
    """Import a confirmed upload through ingest, chunk by chunk (the worker's job).

    Safe to run again or concurrently: each chunk is taken under the upload's row lock and
    skipped when `rows_done` says it is done. An upload that keeps failing stops after
    `MAX_ATTEMPTS` runs, marked failed.
    """
    with transaction.atomic():
        upload = CsvUpload.objects.select_for_update().select_related("brand").get(pk=upload_id)
        if upload.status not in (CsvUploadStatus.QUEUED, CsvUploadStatus.RUNNING):
            return upload
        if upload.attempts >= MAX_ATTEMPTS:
            stop = True
        else:
            stop = False
            if upload.status == CsvUploadStatus.QUEUED:
                _transition(upload, CsvUploadStatus.RUNNING)
            upload.attempts += 1
            upload.save(update_fields=["status", "attempts", "updated_at"])
    language = upload.language or settings.LANGUAGE_CODE
    with translation.override(language):
        if stop:
            return _finish(
                upload_id,
                CsvUploadStatus.FAILED,
                error=_("The import stopped %(count)s times; please contact us.")
                % {"count": upload.attempts},
            )
        try:
            for start, rows in _chunks(csv_upload_rows(upload_id), CHUNK_ROWS):
                if not _import_chunk(upload_id, upload.brand, start, rows):
                    return CsvUpload.objects.get(pk=upload_id)
        except CsvFileError as exc:
            return _finish(upload_id, CsvUploadStatus.FAILED, error=exc.message)
        return _finish(upload_id, CsvUploadStatus.DONE)


def csv_uploads_sweep(*, stale_after: dt.timedelta = dt.timedelta(minutes=5)) -> int:
    """Send again the imports that stopped moving (a lost message, a killed worker).

    Returns how many were enqueued. Touching `updated_at` spaces the retries out.
    """
    cutoff = timezone.now() - stale_after
    with transaction.atomic():
        stale = list(
            CsvUpload.objects.filter(
                status__in=[CsvUploadStatus.QUEUED, CsvUploadStatus.RUNNING],
                updated_at__lt=cutoff,
            )
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:100]
        )
        CsvUpload.objects.filter(pk__in=stale).update(updated_at=timezone.now())
    return sum(1 for pk in stale if csv_upload_enqueue(pk))
