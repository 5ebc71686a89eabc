"""The dashboards in Polish and Spanish: every page renders, with amounts, percentages and
dates in the reader's conventions."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.dashboards.scenario import Marketplace

pytestmark = pytest.mark.django_db


def get(user: Any, path: str, language: str) -> str:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    response = client.get(path)
    assert response.status_code == 200, path
    assert response["Content-Language"] == language
    return (
        b"".join(response.streaming_content).decode()
        if response.streaming
        else (response.content.decode())
    )


@pytest.mark.parametrize(
    ("language", "balance", "pln", "rate", "paid_out"),
    [
        ("pl", "42,00\xa0€", "30,00\xa0zł", "8,8%", "50,00\xa0€"),
        ("es", "42,00\xa0€", "30,00\xa0PLN", "8,8\xa0%", "50,00\xa0€"),
    ],
)
def test_every_dashboard_speaks_the_readers_language(
    market: Marketplace, language: str, balance: str, pln: str, rate: str, paid_out: str
) -> None:
    # when
    creator = get(market.ola.user, "/creator/earnings/?days=90", language)
    commissions = get(market.ola.user, "/creator/earnings/commissions/", language)
    brand = get(market.moda_owner, "/brand/dashboard/?days=365", language)
    staff = get(market.staff, "/staff/", language)
    export = get(market.moda_owner, "/brand/dashboard.csv", language)

    # then
    assert f'data-figure="balance">{balance}<' in creator
    assert f'data-figure="balance">{pln}<' in creator  # her PLN card
    assert pln.replace("30,00", "15,00") in commissions  # a coats order's commission
    assert f'data-figure="rate">{rate}<' in brand
    assert f'data-figure="paid_out">{paid_out}<' in staff
    # the CSV stays machine-readable whatever the language: ISO dates, decimal points
    assert export.splitlines()[0] == "date,campaign,currency,clicks,orders,revenue,commission"
    assert ",Glow kit,EUR,0,2,200.00,15.00" in export
