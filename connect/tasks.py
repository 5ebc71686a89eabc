from celery import shared_task

from connect.health import beat_heartbeat_record


@shared_task(name="connect.beat_heartbeat", acks_late=True, ignore_result=True)
def beat_heartbeat() -> None:
    """Scheduled by beat every 30 s; /healthz reads the stamp to report beat's health."""
    beat_heartbeat_record()
