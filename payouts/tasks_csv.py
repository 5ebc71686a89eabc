"""CSV upload tasks: thin wrappers around `payouts.csv_upload`.

The import is safe to run twice or concurrently (chunks are taken under the upload's row
lock and skipped once counted), and a lost message is sent again by the sweeper.
"""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from payouts import csv_upload


@shared_task(
    name="payouts.csv_upload_process",
    acks_late=True,
    ignore_result=True,
    autoretry_for=(OperationalError,),  # a lost connection: the chunk's transaction rolled back
    retry_backoff=True,
    max_retries=5,
)
def csv_upload_process(upload_id: int) -> int:
    """Import one confirmed CSV upload; returns how many rows are done."""
    return csv_upload.csv_upload_import(upload_id=upload_id).rows_done


@shared_task(
    name="payouts.csv_uploads_sweep", acks_late=True, ignore_result=True, max_retries=0, expires=60
)
def csv_uploads_sweep() -> int:
    """Every minute: send again the imports that stopped moving."""
    return csv_upload.csv_uploads_sweep()
