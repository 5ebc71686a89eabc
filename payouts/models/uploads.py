"""CSV uploads of order events: a file checked in the browser, then imported by a worker.

The file is kept (gzip-compressed, in the database) from the moment it is checked until it
is imported, so that confirming the preview needs no second upload and a worker on any
host can read it. The import goes through the same ingest as the API, in chunks; the
counters say how far it got, so that a retried or resumed import skips what is done.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from campaigns.models import Brand


class CsvUploadStatus(models.TextChoices):
    PREVIEWED = "previewed", _("Checked, waiting for confirmation")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Importing")
    DONE = "done", _("Imported")
    FAILED = "failed", _("Failed")


class CsvUploadManager(models.Manager["CsvUpload"]):
    """Leaves the file's content out of every query unless asked for (`content_gz`)."""

    def get_queryset(self) -> models.QuerySet[CsvUpload]:
        return super().get_queryset().defer("content_gz")


class CsvUpload(models.Model):
    """One CSV file of order events a brand member uploaded, and how its import went.

    Preview counters (`total_rows` … `known_duplicates`, `preview_errors`) describe the file
    as checked; import counters (`rows_done`, `accepted`, `duplicates`, `rejected`) grow
    chunk by chunk, each in the same database transaction as the chunk's ingest.
    """

    TRANSITIONS: ClassVar[dict[str, frozenset[str]]] = {
        CsvUploadStatus.PREVIEWED: frozenset({CsvUploadStatus.QUEUED}),
        CsvUploadStatus.QUEUED: frozenset({CsvUploadStatus.RUNNING, CsvUploadStatus.FAILED}),
        CsvUploadStatus.RUNNING: frozenset({CsvUploadStatus.DONE, CsvUploadStatus.FAILED}),
        CsvUploadStatus.DONE: frozenset(),
        CsvUploadStatus.FAILED: frozenset(),
    }

    id = models.BigAutoField(primary_key=True)
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    file_name = models.CharField(max_length=255)
    size_bytes = models.BigIntegerField()
    content_gz = models.BinaryField(editable=False)
    # The uploader's language: the import's per-row errors are written in it.
    language = models.CharField(max_length=16, blank=True, default="")
    status = models.CharField(
        max_length=12, choices=CsvUploadStatus.choices, default=CsvUploadStatus.PREVIEWED
    )
    # The preview.
    total_rows = models.PositiveIntegerField(default=0)
    valid_rows = models.PositiveIntegerField(default=0)
    invalid_rows = models.PositiveIntegerField(default=0)
    file_duplicates = models.PositiveIntegerField(default=0)
    known_duplicates = models.PositiveIntegerField(default=0)
    preview_errors = models.JSONField(default=list, blank=True)
    # The import.
    rows_done = models.PositiveIntegerField(default=0)
    accepted = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = CsvUploadManager()

    class Meta:
        verbose_name = _("CSV upload")
        verbose_name_plural = _("CSV uploads")
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(
                condition=Q(status__in=CsvUploadStatus.values), name="payouts_csv_upload_status"
            ),
            models.CheckConstraint(
                condition=Q(rows_done__lte=models.F("total_rows")),
                name="payouts_csv_upload_progress_bounded",
            ),
        ]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["brand", "-created_at"], name="csv_upload_brand_created_idx"),
            # The sweeper: imports that should be moving.
            models.Index(
                fields=["updated_at"],
                name="csv_upload_unfinished_idx",
                condition=Q(status__in=["queued", "running"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.status})"

    @property
    def percent(self) -> int:
        """How much of the file is imported, in whole percent (100 only when all is)."""
        if self.total_rows == 0:
            return 100 if self.status == CsvUploadStatus.DONE else 0
        if self.rows_done >= self.total_rows:
            return 100
        return min(99, self.rows_done * 100 // self.total_rows)

    @property
    def is_finished(self) -> bool:
        return self.status in (CsvUploadStatus.DONE, CsvUploadStatus.FAILED)

    def progress(self) -> dict[str, Any]:
        """What the progress page polls (status.json)."""
        return {
            "status": self.status,
            "status_label": str(self.get_status_display()),
            "finished": self.is_finished,
            "percent": self.percent,
            "rows_done": self.rows_done,
            "total_rows": self.total_rows,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "error": self.error,
        }


__all__ = ["CsvUpload", "CsvUploadStatus"]
