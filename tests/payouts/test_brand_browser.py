"""A brand uploads its orders as a CSV file in real Chromium, then reads the event log and
an order's page."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from payouts.models import CsvUpload, CsvUploadStatus, OrderEvent
from payouts.processing import order_events_process_all
from payouts.tasks_csv import csv_upload_process
from tests.browser import signed_in_page
from tests.campaigns.factories import BrandMembershipFactory, CampaignFactory, CollaborationFactory
from tests.connect.factories import CreatorProfileFactory
from tests.payouts.pipeline import yesterday

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_brand_uploads_a_csv_sees_the_preview_imports_it_and_reads_the_log(
    live_server: Any, browser: Browser, screenshot: Callable[[Page, str], Path]
) -> None:
    # given: a brand with a live campaign and a creator's discount code
    campaign = CampaignFactory(title="Spring trail season", brand__name="Trail Co")
    creator = CreatorProfileFactory(handle="ola_runs", display_name="Ola Runs")
    CollaborationFactory(campaign=campaign, creator=creator, discount_code="OLARUNS")
    owner = BrandMembershipFactory(brand=campaign.brand, user__email="marta@trail.example").user
    occurred = yesterday().isoformat()
    csv_text = (
        "id,type,order_id,occurred_at,amount,currency,code,click_id\n"
        f"evt_1,order.paid,A-1001,{occurred},129.99,EUR,olaruns,\n"
        f"evt_2,order.refunded,A-1001,{occurred},29.99,EUR,,\n"
        f"evt_3,order.paid,A-1002,{occurred},12.345,EUR,OLARUNS,\n"
        f"evt_4,order.paid,A-1003,{occurred},49.00,EUR,NOCODE,\n"
    )
    base = live_server.url
    page = signed_in_page(browser, base, owner.email)

    # when: the owner opens the CSV upload from the integration page and checks a file
    page.goto(f"{base}/brand/integration/")
    screenshot(page, "integration")
    page.get_by_role("link", name="CSV upload").click()
    expect(page).to_have_url(f"{base}/brand/events/upload/")
    screenshot(page, "upload-form")
    page.set_input_files(
        "#id_file",
        files=[{"name": "march.csv", "mimeType": "text/csv", "buffer": csv_text.encode()}],
    )
    page.get_by_role("button", name="Check the file").click()

    # then: the preview names the bad row and nothing is stored yet
    expect(page.get_by_role("heading", name="march.csv")).to_be_visible()
    error_row = page.locator("tr[data-error-line='4']")
    expect(error_row).to_contain_text("amount '12.345' has 3 decimals; EUR allows 2.")
    expect(page.locator("[data-stat=valid]")).to_have_text("3")
    expect(page.locator("[data-stat=invalid]")).to_have_text("1")
    assert OrderEvent.objects.count() == 0
    screenshot(page, "preview")

    # when: the owner confirms and a worker imports the file
    page.get_by_role("button", name="Confirm and import").click()
    expect(page.locator("#csv-progress")).to_be_visible()
    upload = CsvUpload.objects.get()
    assert upload.status == CsvUploadStatus.QUEUED
    screenshot(page, "queued")
    csv_upload_process(upload.pk)
    order_events_process_all()

    # then: the page's progress bar reaches 100% by itself
    expect(page.locator("[data-progress=percent]")).to_have_text("100")
    expect(page.locator("[data-progress=accepted]")).to_have_text("3")
    expect(page.locator("[data-progress=rejected]")).to_have_text("1")
    expect(page.get_by_text("The file is imported.")).to_be_visible()
    expect(page.locator("[data-upload-badge]")).to_have_text("Imported")
    page.wait_for_timeout(800)  # the bar's width transition, for the screenshot
    screenshot(page, "imported")

    # when: the owner reads the event log
    page.get_by_role("link", name="See them in the event log").click()
    expect(page).to_have_url(re.compile(r"/brand/events/\?source=csv$"))
    expect(page.locator("tr[data-event-row]")).to_have_count(4)
    expect(page.locator("tr[data-event-row=unattributed]")).to_contain_text(
        "The code NOCODE is not a tracking code or discount code of this brand."
    )
    screenshot(page, "event-log")
    page.select_option("#id_outcome", "rejected")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"outcome=rejected"))
    expect(page.locator("tr[data-event-row]")).to_have_count(1)
    expect(page.locator("tr[data-event-row=rejected]")).to_contain_text("evt_3")

    # and: opens the order the creator's code brought
    page.get_by_role("link", name="Clear filters").click()
    page.get_by_role("link", name="A-1001").first.click()
    expect(page.get_by_role("heading", name="Order A-1001")).to_be_visible()
    expect(page.get_by_role("link", name="@ola_runs")).to_be_visible()
    expect(page.get_by_text("Credited by the creator's code.")).to_be_visible()
    expect(page.locator("#commissions-heading")).to_be_visible()
    history = page.locator("section[aria-labelledby=history-heading] tbody tr")
    expect(history).to_have_count(1)
    expect(history).to_contain_text("+€10.00")
    screenshot(page, "order")
