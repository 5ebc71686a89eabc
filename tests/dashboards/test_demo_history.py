"""`seed_demo --history`: 90 days of demo clicks and orders through the real pipeline, once."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone
from pytest_django.fixtures import Settings

from campaigns.models import CampaignClickDay
from payouts.models import CollaborationDay, Commission, OrderEvent
from payouts.recompute import earnings_recompute
from payouts.selectors import ledger_checks

pytestmark = pytest.mark.django_db


def _seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def test_the_history_spreads_credited_orders_and_clicks_over_90_days_once(
    settings: Settings, tmp_path: Path
) -> None:
    # given
    settings.DEBUG = True
    settings.MEDIA_ROOT = tmp_path / "media"
    today = timezone.now().astimezone(dt.UTC).date()

    # when
    first = _seed("--history")
    counts = (OrderEvent.objects.count(), Commission.objects.count())
    second = _seed("--history")

    # then: the six active demo collaborations got a history, and only once
    assert "  history: 6 collaborations given" in first
    assert "  history: 0 collaborations given 0 clicks and 0 order events" in second
    assert (OrderEvent.objects.count(), Commission.objects.count()) == counts
    history = OrderEvent.objects.filter(order_id__startswith="HIST-")
    assert history.count() > 300
    days = CollaborationDay.objects.filter(orders__gt=0).values("day").distinct().count()
    assert days > 60
    clicked = CampaignClickDay.objects.filter(day__lt=today).aggregate(
        n=Count("day", distinct=True)
    )
    assert clicked["n"] == 90
    # Credited like real orders: most to a creator, a few to nobody (an unknown code).
    credited = Commission.objects.filter(order_ref__startswith="HIST-", amount_minor__gt=0)
    assert credited.count() > 0.8 * history.filter(type="order.paid").count()
    assert Commission.objects.filter(order_ref__startswith="HIST-", status="approved").exists()
    assert earnings_recompute().differences == []
    assert [c.failures for c in ledger_checks() if c.failures] == []


def test_without_the_flag_there_is_no_history(settings: Settings, tmp_path: Path) -> None:
    # given
    settings.DEBUG = True
    settings.MEDIA_ROOT = tmp_path / "media"

    # when
    output = _seed()

    # then
    assert "history" not in output
    assert not OrderEvent.objects.filter(order_id__startswith="HIST-").exists()
