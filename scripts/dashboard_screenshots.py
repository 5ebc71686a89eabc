"""Take the dashboards' screenshots in docs/screenshots/ from the demo data.

    .venv/bin/python scripts/dashboard_screenshots.py

1. Recreate a scratch database, `connect_screenshots` (or SCREENSHOTS_DATABASE_URL; its
   name must start with `connect_screenshots`, since it is dropped), migrate it and seed the
   demo with 90 days of history (`seed_demo --history`).
   Then play a few operations on top (a payout paid, one refused by the bank, one awaiting
   approval; a shop batch with malformed events), as `ACTIVITY` says.
2. Serve the site from it with `runserver` on a free local port (Redis: SCREENSHOTS_REDIS_URL,
   by default the development one).
3. In Chromium, sign in as a demo creator, a demo brand owner and the staff admin and save
   full-page screenshots of their dashboards over the last 90 days:

       docs/screenshots/creator-dashboard.png   @lucia_cocina's earnings
       docs/screenshots/brand-dashboard.png     Moda Wisła's dashboard
       docs/screenshots/admin-dashboard.png     the staff overview

   and Moda Wisła's dashboard over the last 365 days, charted a week a bar:

       docs/screenshots/brand-dashboard-year.png
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from playwright.sync_api import Page, expect, sync_playwright

BASE_DIR = Path(__file__).resolve().parent.parent
OUTPUT_DIR = BASE_DIR / "docs" / "screenshots"
PYTHON = sys.executable
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
DATABASE_URL = os.environ.get(
    "SCREENSHOTS_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/connect_screenshots"
)
REDIS_URL = os.environ.get("SCREENSHOTS_REDIS_URL", "redis://127.0.0.1:6379/0")
DEMO_PASSWORD = "connect-demo-2026"  # noqa: S105 - the published demo password
WIDTH, HEIGHT = 1280, 900

# (file, who signs in, the page, a text the page shows once its figures are there)
SHOTS = [
    (
        "creator-dashboard.png",
        "lucia@demo.connect",
        "/creator/earnings/?days=90",
        "By campaign",
    ),
    (
        "brand-dashboard.png",
        "brand-owner@moda-wisla.demo",
        "/brand/dashboard/?days=90",
        "Integration health",
    ),
    ("admin-dashboard.png", "admin@demo.connect", "/staff/", "Money by currency"),
    (
        "brand-dashboard-year.png",
        "brand-owner@moda-wisla.demo",
        "/brand/dashboard/?days=365",
        "Integration health",
    ),
]


# A few minutes of operations on top of the demo, as people would do them in the browser or
# through the API: Lucía is paid by bank transfer (one payout paid, one refused by her bank,
# one awaiting approval), and Moda Wisła's shop sends a batch with malformed events and a
# retried one.
ACTIVITY = """
from django.utils import timezone
from campaigns.models import Brand
from connect.models import CreatorProfile, User
from payouts import payout_services
from payouts.ingest import order_events_ingest
from payouts.models import OrderEvent
from payouts.payout_accounts import bank_account_set

admin = User.objects.get(email="admin@demo.connect")
lucia = CreatorProfile.objects.get(handle="lucia_cocina")
bank_account_set(
    creator=lucia, holder_name="Lucía Fernández", iban="ES9121000418450200051332",
    bic="CAIXESBBXXX", actor=None,
)
paid = payout_services.payout_request(creator=lucia, currency="EUR", amount_minor=90000)
refused = payout_services.payout_request(creator=lucia, currency="EUR", amount_minor=15000)
for payout in (paid, refused):
    payout_services.payout_approve(payout=payout, actor=admin)
payout_services.payout_bank_mark_exported(payouts=[paid, refused], actor=admin)
payout_services.payout_bank_mark_paid(payout=paid, actor=admin, reference="SEPA-2026-0042")
payout_services.payout_bank_mark_failed(
    payout=refused, actor=admin, reason="The bank returned the transfer: the account is closed."
)
payout_services.payout_request(creator=lucia, currency="EUR", amount_minor=60000)

moda = Brand.objects.get(slug="moda-wisla")
now = timezone.now().replace(microsecond=0)
retried = OrderEvent.objects.filter(brand=moda, type="order.paid").order_by("id").first()
order_events_ingest(brand=moda, events=[
    {"id": "SHOP-9001-paid", "type": "order.paid", "order_id": "SHOP-9001",
     "occurred_at": now.isoformat(), "amount": "149.999", "currency": "PLN"},
    {"id": "SHOP-9002-paid", "type": "order.paid", "order_id": "SHOP-9002",
     "occurred_at": now.strftime("%Y-%m-%d %H:%M:%S"), "amount": "99.00", "currency": "PLN"},
    {"id": "SHOP-9003-refund", "type": "order.refund", "order_id": "SHOP-9001",
     "occurred_at": now.isoformat(), "amount": "20.00", "currency": "PLN"},
    {"id": retried.event_id, "type": retried.type, "order_id": retried.order_id,
     "occurred_at": retried.occurred_at.isoformat(),
     "amount": f"{retried.amount_minor // 100}.{retried.amount_minor % 100:02d}",
     "currency": retried.currency, "code": retried.code},
])
"""


def recreate_database(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    if not name.startswith("connect_screenshots"):
        raise SystemExit(f"Refusing to drop {name!r}: its name must start with connect_screenshots")
    admin = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=BASE_DIR, env=env, check=True)


def wait_until_up(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - our local server
                return
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("button", name="Sign In")).to_have_count(0)


def main() -> None:
    env = {
        **os.environ,
        "DATABASE_URL": DATABASE_URL,
        "REDIS_URL": REDIS_URL,
        "DEBUG": "true",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    print(f"Seeding {urlsplit(DATABASE_URL).path.lstrip('/')} with the demo and its history")
    recreate_database(DATABASE_URL)
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "seed_demo", "--history")
    manage(env, "shell", "-c", ACTIVITY)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [PYTHON, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=BASE_DIR,
        env=env,
    )
    try:
        wait_until_up(f"{base}/robots.txt")
        OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
            )
            for filename, email, path, ready_text in SHOTS:
                context = browser.new_context(
                    viewport={"width": WIDTH, "height": HEIGHT}, locale="en-US"
                )
                page = context.new_page()
                sign_in(page, base, email)
                page.goto(f"{base}{path}")
                expect(page.get_by_text(ready_text).first).to_be_visible()
                target = OUTPUT_DIR / filename
                page.screenshot(path=str(target), full_page=True)
                print(f"Saved {target.relative_to(BASE_DIR)}")
                context.close()
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
