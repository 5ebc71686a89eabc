"""The marketplace from first sign-up to money in the bank, in real Chromium: every person in
their own browser, the brand's shop over the public API, a real Celery worker processing the
orders and sending payouts, and the project's Stripe-compatible server."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from payouts.models import OrderEvent, Payout, PayoutStatus
from tests.connect.factories import UserFactory
from tests.journeys import steps
from tests.payouts.payout_helpers import assert_ledger_ok, balances
from tests.payouts.stripe_fixtures import WEBHOOK_SECRET, StripeServer
from tests.payouts.workers import celery_worker, process_env, wait_for

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("niches"),
]

Screenshot = Callable[[Page, str], Path]


def _all_processed(count: int) -> bool:
    return OrderEvent.objects.filter(processed_at__isnull=False).count() == count


def test_stripe_journey_from_sign_up_to_a_paid_payout_and_the_brands_cost(
    live_server: Any,
    browser: Browser,
    screenshot: Screenshot,
    stripe_server: StripeServer,
    settings: Any,
) -> None:
    base = settings.SITE_URL = live_server.url
    anna = UserFactory(
        email="anna@connect.example", verified=True, is_staff=True, is_superuser=True
    )
    bruno = UserFactory(email="bruno@connect.example", verified=True, is_staff=True)
    stripe_server.control("webhooks", url=f"{base}/webhooks/stripe/", secret=WEBHOOK_SECRET)
    env = process_env(
        SITE_URL=base, STRIPE_API_BASE=stripe_server.url, STRIPE_MAX_NETWORK_RETRIES="0"
    )

    # a brand signs up, verifies its email and drafts a campaign
    brand = steps.sign_up_and_verify(browser, base, "marta@trail.example")
    steps.brand_creates_campaign(brand, base, brand="Trail Co", title="Spring trail season")
    screenshot(brand, "brand-draft")

    # staff verify the brand; it publishes and makes an API key for its shop
    admin = steps.signed_in(browser, base, anna.email)
    steps.staff_verify_brand(admin, base, "Trail Co")
    screenshot(admin, "staff-verified-brand")
    steps.brand_publishes(brand)
    screenshot(brand, "brand-published")
    key = steps.brand_creates_api_key(brand, base)
    assert key.startswith("ck_live_")
    screenshot(brand, "brand-api-key")

    # a creator signs up, verifies the email, onboards, joins and copies the link
    me = steps.sign_up_and_verify(browser, base, "ola@runs.example")
    screenshot(me, "creator-onboarding")
    steps.onboard_creator(me, handle="ola_runs", name="Ola Runs", country="ES")
    screenshot(me, "creator-profile")
    link, code = steps.creator_joins(me, base, "Spring trail season")
    assert link.startswith(f"{base}/r/")
    assert code == "OLARUNS"
    screenshot(me, "creator-link-copied")

    # a visitor clicks it; beat's flush stores the click
    click_id = steps.visitor_clicks(link)
    me.reload()
    expect(me.locator("section", has_text="Performance").locator(".display-6")).to_have_text("1")

    with celery_worker(env, name="journey-stripe") as worker:
        # the shop reports an order through the click and one with the code ...
        steps.post_events(
            base,
            key,
            [
                steps.order_paid("evt-1", "A-1001", "5000.00", click_id=click_id),
                steps.order_paid("evt-2", "A-1002", "1500.00", code=code),
            ],
        )
        wait_for(lambda: _all_processed(2), f"the worker to process 2 events\n{worker.log()}")
        # ... and later refunds part of the second
        steps.post_events(base, key, [steps.order_refunded("evt-3", "A-1002", "500.00")])
        wait_for(lambda: _all_processed(3), f"the worker to process the refund\n{worker.log()}")

        brand.goto(f"{base}/brand/events/")
        expect(brand.locator("main")).to_contain_text("A-1002")
        screenshot(brand, "brand-event-log")

        # earnings wait in their hold, then the hold passes
        me.goto(f"{base}/creator/earnings/")
        expect(me.locator("[data-figure=pending]")).to_have_text("€1,200.00")
        expect(me.locator("[data-figure=approved]")).to_have_text("€0.00")
        screenshot(me, "creator-earnings-pending")
        assert steps.hold_passes(days=31) == 2
        me.reload()
        expect(me.locator("[data-figure=approved]")).to_have_text("€1,200.00")
        expect(me.locator("[data-figure=pending]")).to_have_text("€0.00")
        screenshot(me, "creator-earnings-approved")

        # the creator connects Stripe and asks for the whole balance
        me.goto(f"{base}/creator/payouts/settings/")
        me.get_by_role("button", name="Connect with Stripe").click()
        me.wait_for_url(f"{stripe_server.url}/onboarding/**")
        screenshot(me, "stripe-onboarding")
        me.locator("#complete").click()
        me.wait_for_url(f"{base}/creator/payouts/stripe/return/**")
        screenshot(me, "stripe-return")
        me.goto(f"{base}/creator/payouts/")
        expect(me.locator("[data-balance=available]")).to_have_text("€1,200.00")
        me.get_by_role("button", name="Request payout").first.click()
        expect(me.locator("tbody tr").first).to_contain_text("Awaiting approval")
        expect(me.locator("[data-balance=in_flight]")).to_have_text("€1,200.00")
        screenshot(me, "payout-requested")
        payout = Payout.objects.get()

        # two admins approve: it is above the second-approval amount
        admin.goto(f"{base}/staff/payouts/{payout.pk}/")
        admin.get_by_role("button", name="Approve").click()
        expect(admin.locator("main")).to_contain_text("second")
        screenshot(admin, "first-approval")
        second = steps.signed_in(browser, base, bruno.email)
        second.goto(f"{base}/staff/payouts/{payout.pk}/")
        second.get_by_role("button", name="Give the second approval").click()
        screenshot(second, "second-approval")
        wait_for(
            lambda: Payout.objects.get(pk=payout.pk).stripe_payout_id != "",
            f"the worker to send the payout\n{worker.log()}",
        )

    # Stripe pays it out and says so by webhook; the creator sees it paid
    payout.refresh_from_db()
    stripe_server.control(f"payouts/{payout.stripe_payout_id}", status="paid")
    stripe_server.control("webhooks/drain")
    wait_for(lambda: Payout.objects.get(pk=payout.pk).status == PayoutStatus.PAID, "payout.paid")
    me.goto(f"{base}/creator/payouts/")
    expect(me.locator("tbody tr").first).to_contain_text("Paid")
    expect(me.locator("tbody tr").first).to_contain_text(payout.stripe_transfer_id)
    expect(me.locator("[data-balance=paid_out]")).to_have_text("€1,200.00")
    expect(me.locator("[data-balance=available]")).to_have_text("€0.00")
    screenshot(me, "payout-paid")

    # the brand sees what the campaign sold and cost
    brand.goto(f"{base}/brand/dashboard/")
    expect(brand.locator("[data-figure=revenue]").first).to_have_text("€6,000.00")
    expect(brand.locator("[data-figure=cost]").first).to_have_text("€1,200.00")
    expect(brand.locator("[data-figure=orders]").first).to_have_text("2")
    expect(brand.locator("[data-figure=clicks]").first).to_have_text("1")
    screenshot(brand, "brand-dashboard")
    assert balances(payout.creator) == {
        "available": 0,
        "in_flight": 0,
        "paid_out": 120_000,
        "pending": 0,
    }
    assert_ledger_ok()


def test_bank_transfer_journey_with_a_rejected_payout_then_a_paid_one(
    live_server: Any, browser: Browser, screenshot: Screenshot, settings: Any
) -> None:
    base = settings.SITE_URL = live_server.url
    carla = UserFactory(
        email="carla@connect.example", verified=True, is_staff=True, is_superuser=True
    )
    env = process_env(SITE_URL=base)

    # a brand signs up, staff verify it, it publishes and makes an API key
    brand = steps.sign_up_and_verify(browser, base, "jon@peak.example")
    steps.brand_creates_campaign(brand, base, brand="Peak Gear", title="Winter peaks")
    admin = steps.signed_in(browser, base, carla.email)
    steps.staff_verify_brand(admin, base, "Peak Gear")
    steps.brand_publishes(brand)
    key = steps.brand_creates_api_key(brand, base)
    screenshot(brand, "brand-api-key")

    # a creator signs up, onboards, joins; a visitor clicks; the shop reports an order
    me = steps.sign_up_and_verify(browser, base, "lena@climbs.example")
    steps.onboard_creator(me, handle="lena_climbs", name="Lena Climbs", country="DE")
    link, code = steps.creator_joins(me, base, "Winter peaks")
    assert code == "LENACLIMBS"
    screenshot(me, "creator-link-copied")
    click_id = steps.visitor_clicks(link)
    with celery_worker(env, name="journey-bank") as worker:
        steps.post_events(
            base, key, [steps.order_paid("evt-1", "W-1", "600.00", click_id=click_id)]
        )
        wait_for(lambda: _all_processed(1), f"the worker to process the order\n{worker.log()}")
    assert steps.hold_passes(days=31) == 1
    me.goto(f"{base}/creator/earnings/")
    expect(me.locator("[data-figure=approved]")).to_have_text("€120.00")
    screenshot(me, "creator-earnings-approved")

    # the creator gives a bank account and asks for a payout
    me.goto(f"{base}/creator/payouts/settings/")
    me.fill("#id_holder_name", "Lena Berg")
    me.fill("#id_iban", "DE89 3704 0044 0532 0130 00")
    me.fill("#id_bic", "COBADEFFXXX")
    me.get_by_role("button", name="Save bank account").click()
    expect(me.locator("main")).to_contain_text("•••• 3000")
    expect(me.locator("main")).to_contain_text("Your payouts go out by Bank transfer")
    screenshot(me, "bank-account-saved")
    me.goto(f"{base}/creator/payouts/")
    me.get_by_role("button", name="Request payout").first.click()
    expect(me.locator("tbody tr").first).to_contain_text("Awaiting approval")
    screenshot(me, "payout-requested")
    first = Payout.objects.get()

    # staff reject it with a reason: the money comes back and the creator reads why
    admin.goto(f"{base}/staff/payouts/{first.pk}/")
    admin.locator("textarea[name=reason], input[name=reason]").fill(
        "The account holder's name does not match your profile."
    )
    admin.get_by_role("button", name="Reject").click()
    expect(admin.locator("main")).to_contain_text("Rejected")
    screenshot(admin, "staff-rejected")
    me.reload()
    expect(me.locator("tbody tr").first).to_contain_text("Rejected")
    expect(me.locator("main")).to_contain_text(
        "The account holder's name does not match your profile."
    )
    expect(me.locator("[data-balance=available]")).to_have_text("€120.00")
    screenshot(me, "creator-sees-rejection")

    # the creator asks again; staff approve, export the SEPA file and mark it paid
    me.get_by_role("button", name="Request payout").first.click()
    expect(me.locator("[data-balance=in_flight]")).to_have_text("€120.00")
    second = Payout.objects.exclude(pk=first.pk).get()
    admin.goto(f"{base}/staff/payouts/{second.pk}/")
    admin.get_by_role("button", name="Approve").click()
    expect(admin.locator("main")).to_contain_text("Approved")
    admin.goto(f"{base}/staff/payouts/bank/")
    expect(admin.locator(f"[data-payout-row='{second.pk}']")).to_contain_text("€120.00")
    screenshot(admin, "staff-bank-transfers")
    with admin.expect_download() as download_info:
        admin.get_by_role("button", name="Download SEPA file").click()
    sepa = Path(download_info.value.path()).read_text()
    assert "DE89370400440532013000" in sepa and "120.00" in sepa
    admin.reload()
    row = admin.locator(f"[data-payout-row='{second.pk}']")
    expect(row).to_contain_text("Exported")
    row.locator("input[name=reference]").fill("SEPA-2026-11-30-001")
    row.get_by_role("button", name="Mark paid").click()
    expect(admin.locator("main")).to_contain_text("No approved bank payout waits to be paid.")
    screenshot(admin, "staff-marked-paid")

    # the creator sees it paid; the brand sees the cost
    me.reload()
    expect(me.locator("[data-balance=paid_out]")).to_have_text("€120.00")
    expect(me.locator("[data-balance=available]")).to_have_text("€0.00")
    expect(me.locator("tbody tr").first).to_contain_text("Paid")
    expect(me.locator("tbody tr").first).to_contain_text("€120.00")
    screenshot(me, "creator-sees-paid")
    brand.goto(f"{base}/brand/dashboard/")
    expect(brand.locator("[data-figure=revenue]").first).to_have_text("€600.00")
    expect(brand.locator("[data-figure=cost]").first).to_have_text("€120.00")
    screenshot(brand, "brand-dashboard")
    assert Payout.objects.get(pk=first.pk).status == PayoutStatus.REJECTED
    assert Payout.objects.get(pk=second.pk).status == PayoutStatus.PAID
    assert_ledger_ok()
