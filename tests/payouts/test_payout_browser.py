"""The whole payout journey in real Chromium: a creator with approved earnings connects
Stripe through the onboarding page of the project's Stripe-compatible server and requests a
payout; two different admins approve it (it is above the second-approval amount); a real
worker sends it; Stripe pays it out and tells us by webhook; the creator sees it paid."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from payouts.models import Payout, PayoutStatus
from tests.browser import signed_in_page
from tests.connect.factories import CreatorProfileFactory, UserFactory
from tests.payouts.factories import give_available
from tests.payouts.payout_helpers import assert_ledger_ok, balances
from tests.payouts.stripe_fixtures import WEBHOOK_SECRET, StripeServer
from tests.payouts.workers import celery_worker, process_env, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_creator_connects_stripe_asks_two_admins_approve_the_worker_sends_it_is_paid(
    live_server: Any,
    browser: Browser,
    screenshot: Callable[[Page, str], Path],
    stripe_server: StripeServer,
) -> None:
    base = live_server.url
    creator = CreatorProfileFactory(handle="ola_runs", display_name="Ola Runs")
    give_available(creator, 150_000)  # 1,500.00 EUR: above the 1,000.00 second approval
    first_admin = UserFactory(is_staff=True, email="anna@connect.example")
    second_admin = UserFactory(is_staff=True, email="bruno@connect.example")
    stripe_server.control("webhooks", url=f"{base}/webhooks/stripe/", secret=WEBHOOK_SECRET)
    env = process_env(STRIPE_API_BASE=stripe_server.url, STRIPE_MAX_NETWORK_RETRIES="0")

    # the creator connects Stripe: our page, Stripe's onboarding page, back to our page
    page = signed_in_page(browser, base, creator.user.email)
    page.goto(f"{base}/creator/payouts/settings/")
    screenshot(page, "settings-before")
    page.get_by_role("button", name="Connect with Stripe").click()
    page.wait_for_url(f"{stripe_server.url}/onboarding/**")
    screenshot(page, "stripe-onboarding")
    page.locator("#complete").click()
    page.wait_for_url(f"{base}/creator/payouts/stripe/return/**")
    screenshot(page, "stripe-return")
    expect(page.locator("main")).to_contain_text("Stripe")
    creator.refresh_from_db()
    assert creator.payout_account.ready

    # and asks for the whole available balance
    page.goto(f"{base}/creator/payouts/")
    screenshot(page, "payouts-before")
    page.get_by_role("button", name="Request payout").first.click()
    expect(page.locator("main")).to_contain_text("Awaiting approval")
    payout = Payout.objects.get(creator=creator)
    assert (payout.amount_minor, payout.status) == (150_000, PayoutStatus.REQUESTED)
    screenshot(page, "payout-requested")

    with celery_worker(env, name="payout-browser") as worker:
        # the first admin approves from the payout's page: a second approval is needed
        first = signed_in_page(browser, base, first_admin.email)
        first.goto(f"{base}/staff/payouts/")
        expect(first.locator("main")).to_contain_text("@ola_runs")
        screenshot(first, "queue")
        first.goto(f"{base}/staff/payouts/{payout.pk}/")
        first.get_by_role("button", name="Approve").click()
        expect(first.locator("main")).to_contain_text("second")
        payout.refresh_from_db()
        assert payout.status == PayoutStatus.REQUESTED
        assert payout.first_approved_by == first_admin
        screenshot(first, "first-approval")

        # a second, different admin approves; the worker sends the transfer
        second = signed_in_page(browser, base, second_admin.email)
        second.goto(f"{base}/staff/payouts/{payout.pk}/")
        second.get_by_role("button", name="Give the second approval").click()
        screenshot(second, "second-approval")
        wait_for(
            lambda: Payout.objects.get(pk=payout.pk).stripe_payout_id != "",
            f"the worker to send the payout\n{worker.log()}",
        )

    payout.refresh_from_db()
    assert payout.status == PayoutStatus.SENT and payout.second_approved_by == second_admin
    page.goto(f"{base}/creator/payouts/")
    expect(page.locator("main")).to_contain_text(payout.stripe_transfer_id)
    screenshot(page, "payout-sent")

    # Stripe pays the connected balance out to the creator's bank and says so by webhook
    stripe_server.control(f"payouts/{payout.stripe_payout_id}", status="paid")
    stripe_server.control("webhooks/drain")
    wait_for(lambda: Payout.objects.get(pk=payout.pk).status == PayoutStatus.PAID, "payout.paid")
    page.reload()
    expect(page.locator("main")).to_contain_text("Paid")
    screenshot(page, "payout-paid")
    assert balances(creator) == {"available": 0, "in_flight": 0, "paid_out": 150_000, "pending": 0}
    assert_ledger_ok()
