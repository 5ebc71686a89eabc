"""`manage.py seed_demo`: `make run` calls it on every start, so it must be idempotent."""

from __future__ import annotations

import io
import runpy
import time
import urllib.error
import urllib.request
from decimal import Decimal
from pathlib import Path

import pytest
import stripe
from allauth.account.models import EmailAddress
from django.core.management import call_command
from django.core.management.base import CommandError
from pytest_django.fixtures import Settings

from campaigns.models import (
    Brand,
    BrandMembership,
    Campaign,
    CampaignTerms,
    Click,
    ClickDailyCount,
    Collaboration,
)
from campaigns.services import brand_create, collaboration_join
from connect.management.commands.seed_demo import (
    ADMIN_EMAIL,
    DEMO_BRANDS,
    DEMO_CREATORS,
    DEMO_PASSWORD,
)
from connect.models import AuditEntry, CreatorProfile, SocialAccount, User
from connect.services import creator_profile_create
from payouts import payout_services
from payouts.models import (
    Commission,
    DuplicateOrderEvent,
    LedgerEntry,
    LedgerTransaction,
    Order,
    OrderEvent,
    PayoutStatus,
)
from payouts.payout_accounts import stripe_account_refresh, stripe_onboarding_start
from payouts.recompute import earnings_recompute
from payouts.selectors import ledger_checks
from tests.connect.factories import UserFactory
from tests.payouts.payout_helpers import assert_ledger_ok, balances
from tests.payouts.stripe_fixtures import (  # noqa: F401 - fixtures
    StripeServer,
    _stripe_server_process,
    stripe_server,
)

pytestmark = pytest.mark.django_db


def _development(settings: Settings, tmp_path: Path) -> None:
    # pytest-django turns DEBUG off; seed_demo only runs on development settings.
    settings.DEBUG = True
    settings.MEDIA_ROOT = tmp_path / "media"


def _seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def _counts() -> dict[str, int]:
    return {
        "users": User.objects.count(),
        "staff": User.objects.filter(is_staff=True, is_superuser=True).count(),
        "verified_primary_emails": EmailAddress.objects.filter(verified=True, primary=True).count(),
        "profiles": CreatorProfile.objects.count(),
        "social_accounts": SocialAccount.objects.count(),
        "audit_entries": AuditEntry.objects.count(),
        "brands": Brand.objects.count(),
        "memberships": BrandMembership.objects.count(),
        "campaigns": Campaign.objects.count(),
        "campaign_terms": CampaignTerms.objects.count(),
        "collaborations": Collaboration.objects.count(),
        "order_events": OrderEvent.objects.count(),
        "duplicate_events": DuplicateOrderEvent.objects.count(),
        "commissions": Commission.objects.count(),
        "ledger_transactions": LedgerTransaction.objects.count(),
    }


def test_seed_demo_run_twice_creates_everything_once(settings: Settings, tmp_path: Path) -> None:
    # given
    _development(settings, tmp_path)
    _seed()
    after_first_run = _counts()

    # when
    output = _seed()

    # then
    assert after_first_run == {
        "users": 16,
        "staff": 1,
        "verified_primary_emails": 16,
        "profiles": 12,
        "social_accounts": 23,
        # 12 profiles; 3 brands created and verified; 8 campaigns created, 7 published,
        # 1 paused; 7 joins, 1 application, 1 invitation
        "audit_entries": 12 + 3 * 2 + 8 + 7 + 1 + 9,
        "brands": 3,
        "memberships": 3,
        "campaigns": 8,
        "campaign_terms": 8,
        "collaborations": 9,
        # 6 active collaborations in active campaigns x (8 orders + 1 refund + 1 cancellation)
        "order_events": 60,
        "duplicate_events": 0,
        # 7 orders of each credited (one names a code nobody has); each order's events
        # arrive in one batch, so each credited order is posted once, net of its refund,
        # and the cancelled one not at all; the 6 of the campaign without hold then mature
        "commissions": 42,
        "ledger_transactions": 6 * 6 + 6,
    }
    assert _counts() == after_first_run
    assert "  creators: 12 (0 new)" in output
    assert "  staff admin: 1 (0 new)" in output
    assert "  brands: 3 (0 new)" in output
    assert "  campaigns: 8 (0 new)" in output
    assert "  collaborations: 9 (0 new)" in output
    assert "  order events: 60 (0 new)" in output
    assert "  commissions approved now: 0" in output


def _run_script_seed_command() -> tuple[str, ...]:
    """The seed_demo command and options `make run` (scripts/run.py) runs on every start."""
    path = Path(__file__).resolve().parents[2] / "scripts" / "run.py"
    return tuple(runpy.run_path(str(path), run_name="connect_run_script")["SEED_DEMO_COMMAND"])


def test_make_run_seeds_the_history_once_however_often_it_starts(
    settings: Settings, tmp_path: Path
) -> None:
    # given: what make run seeds, once
    _development(settings, tmp_path)
    command = _run_script_seed_command()
    assert command == ("seed_demo", "--history")
    call_command(*command, stdout=io.StringIO())
    after_first_run = {
        **_counts(),
        "clicks": Click.objects.count(),
        "click_days": ClickDailyCount.objects.count(),
        "ledger_entries": LedgerEntry.objects.count(),
    }

    # when: it starts again
    out = io.StringIO()
    call_command(*command, stdout=out)

    # then: nothing is added, the history included
    assert {
        **_counts(),
        "clicks": Click.objects.count(),
        "click_days": ClickDailyCount.objects.count(),
        "ledger_entries": LedgerEntry.objects.count(),
    } == after_first_run
    assert after_first_run["order_events"] > 60 + 300
    assert after_first_run["clicks"] > 10_000
    output = out.getvalue()
    assert "  history: 0 collaborations given 0 clicks and 0 order events" in output
    assert "  order events: 60 (0 new)" in output


def test_seed_demo_creators_have_verified_emails_and_complete_profiles(
    settings: Settings, tmp_path: Path
) -> None:
    # given
    _development(settings, tmp_path)

    # when
    _seed()

    # then
    assert len(DEMO_CREATORS) == 12
    for creator in DEMO_CREATORS:
        user = User.objects.get(email=creator.email)
        assert user.check_password(DEMO_PASSWORD)
        assert not user.is_staff
        assert list(
            EmailAddress.objects.filter(user=user).values_list("email", "verified", "primary")
        ) == [(creator.email, True, True)]
        profile = CreatorProfile.objects.get(user=user)
        assert profile.handle == creator.handle
        assert profile.display_name == creator.display_name
        assert profile.country.code == creator.country
        assert profile.languages == list(creator.languages)
        assert sorted(profile.niches.values_list("slug", flat=True)) == sorted(creator.niches)
        assert profile.max_followers == max(s.followers for s in creator.socials)
        assert profile.social_accounts.count() == len(creator.socials)
        assert profile.avatar.name.startswith("avatars/")
        assert profile.avatar.name.endswith(".webp")
        assert (Path(settings.MEDIA_ROOT) / profile.avatar.name).is_file()
    assert sorted(CreatorProfile.objects.values_list("country", flat=True).distinct()) == [
        "DE",
        "ES",
        "FR",
        "IT",
        "PL",
        "PT",
    ]


def test_seed_demo_creates_a_staff_admin_and_prints_the_demo_logins(
    settings: Settings, tmp_path: Path
) -> None:
    # given
    _development(settings, tmp_path)

    # when
    output = _seed()

    # then
    admin = User.objects.get(email=ADMIN_EMAIL)
    assert admin.is_staff
    assert admin.is_superuser
    assert admin.check_password(DEMO_PASSWORD)
    assert not hasattr(admin, "creator_profile")
    logins = output.split("Demo logins:", 1)[1].strip().splitlines()
    assert [line.split()[0] for line in logins[:6]] == [
        "admin@demo.connect",
        "ola@demo.connect",
        "lucia@demo.connect",
        "brand-owner@moda-wisla.demo",
        "brand-owner@sol-cosmetica.demo",
        "brand-owner@hory-outdoor.demo",
    ]
    assert logins[6].strip() == "Password for all: connect-demo-2026"
    assert logins[2].split(None, 1)[1] == (
        "creator @lucia_cocina (ES); €72.00 approved: connect Stripe, request a payout"
    )


def test_seed_demo_keeps_a_password_the_developer_changed(
    settings: Settings, tmp_path: Path
) -> None:
    # given
    _development(settings, tmp_path)
    _seed()
    ola = User.objects.get(email="ola@demo.connect")
    ola.set_password("my-own-password-1")
    ola.save()

    # when
    _seed()

    # then
    ola.refresh_from_db()
    assert ola.check_password("my-own-password-1")


def test_seed_demo_skips_a_creator_whose_handle_is_taken_and_seeds_the_rest(
    settings: Settings, tmp_path: Path
) -> None:
    # given
    _development(settings, tmp_path)
    someone = User.objects.create_user(email="someone@example.com", password="x-long-password")
    EmailAddress.objects.create(user=someone, email=someone.email, verified=True, primary=True)
    creator_profile_create(user=someone, handle="OLA_CREATES", display_name="Ola", country="PL")

    # when
    output = _seed()

    # then
    assert "  skipped @ola_creates: This handle is already taken." in output
    assert "  creators: 12 (11 new)" in output
    assert CreatorProfile.objects.count() == 12
    assert User.objects.filter(email="ola@demo.connect").exists()


def test_seed_demo_refuses_to_run_with_debug_off(settings: Settings) -> None:
    # given
    settings.DEBUG = False

    # when
    with pytest.raises(CommandError) as excinfo:
        call_command("seed_demo", stdout=io.StringIO())

    # then
    assert "DEBUG is off" in str(excinfo.value)
    assert User.objects.count() == 0


def test_seed_demo_brands_are_verified_and_owned_by_a_demo_login(
    settings: Settings, tmp_path: Path
) -> None:
    # given
    _development(settings, tmp_path)

    # when
    _seed()

    # then
    admin = User.objects.get(email=ADMIN_EMAIL)
    assert [(b.slug, b.country.code) for b in Brand.objects.order_by("slug")] == [
        ("hory-outdoor", "CZ"),
        ("moda-wisla", "PL"),
        ("sol-cosmetica", "ES"),
    ]
    for demo in DEMO_BRANDS:
        brand = Brand.objects.get(slug=demo.slug)
        assert brand.is_verified
        assert brand.verified_by == admin
        assert not brand.is_suspended
        assert brand.logo.name.endswith(".webp")
        owner = User.objects.get(email=f"brand-owner@{demo.slug}.demo")
        assert owner.check_password(DEMO_PASSWORD)
        assert EmailAddress.objects.filter(user=owner, verified=True, primary=True).exists()
        assert list(brand.memberships.values_list("user__email", "role")) == [
            (owner.email, "owner")
        ]


def test_seed_demo_campaigns_span_currencies_join_modes_and_statuses(
    settings: Settings, tmp_path: Path
) -> None:
    # given
    _development(settings, tmp_path)

    # when
    _seed()

    # then
    campaigns = {
        c.title: c for c in Campaign.objects.select_related("brand").prefetch_related("terms")
    }
    summary = sorted(
        (c.brand.slug, c.title, c.currency, c.join_mode, c.status) for c in campaigns.values()
    )
    assert summary == [
        ("hory-outdoor", "City break daypacks", "EUR", "open", "active"),
        ("hory-outdoor", "Hiking trips abroad", "USD", "open", "active"),
        ("hory-outdoor", "Trail running kit", "CZK", "open", "paused"),
        ("moda-wisla", "Autumn coats lookbook", "PLN", "application", "active"),
        ("moda-wisla", "Spring capsule wardrobe", "PLN", "open", "active"),
        ("moda-wisla", "Winter sale preview", "PLN", "open", "draft"),
        ("sol-cosmetica", "Glow ambassadors", "EUR", "invite_only", "active"),
        ("sol-cosmetica", "SPF for sensitive skin", "EUR", "open", "active"),
    ]
    spring = campaigns["Spring capsule wardrobe"]
    assert spring.budget_minor == 2_000_000
    assert [(t.commission_type, t.commission_percent) for t in spring.terms.all()] == [
        ("percent", Decimal("12.50"))
    ]
    trail = campaigns["Trail running kit"].terms.get()
    assert (trail.commission_type, trail.commission_fixed_minor) == ("fixed", 15000)
    assert campaigns["Winter sale preview"].published_at is None
    assert campaigns["Trail running kit"].published_at is not None


def test_seed_demo_collaborations_are_active_with_codes_applied_and_invited(
    settings: Settings, tmp_path: Path
) -> None:
    # given
    _development(settings, tmp_path)

    # when
    _seed()

    # then
    collaborations = sorted(
        (c.campaign.title, c.creator.handle, c.status, c.discount_code)
        for c in Collaboration.objects.select_related("campaign", "creator")
    )
    assert collaborations == [
        ("Autumn coats lookbook", "lucia_cocina", "applied", None),
        ("City break daypacks", "lucia_cocina", "active", "LUCIACOCINA"),
        ("Glow ambassadors", "ola_creates", "invited", None),
        ("Hiking trips abroad", "marta_viatja", "active", "MARTAVIATJA"),
        ("SPF for sensitive skin", "carmen_glow", "active", "CARMENGLOW"),
        ("SPF for sensitive skin", "lucia_cocina", "active", "LUCIACOCINA"),
        ("Spring capsule wardrobe", "camille_style", "active", "CAMILLESTYLE"),
        ("Spring capsule wardrobe", "ola_creates", "active", "OLACREATES"),
        ("Trail running kit", "marek_biega", "active", "MAREKBIEGA"),
    ]
    active = Collaboration.objects.filter(status="active")
    assert len({c.tracking_code for c in active}) == 7
    assert all(c.tracking_code for c in active)
    application = Collaboration.objects.get(status="applied")
    assert application.pitch.startswith("Autumn city breaks are my most-watched series")
    invitation = Collaboration.objects.get(status="invited")
    assert invitation.invited_by == User.objects.get(email="brand-owner@sol-cosmetica.demo")


def test_seed_demo_leaves_a_brand_address_someone_else_registered_alone(
    settings: Settings, tmp_path: Path
) -> None:
    # given
    _development(settings, tmp_path)
    someone = UserFactory(verified=True)
    brand_create(
        user=someone,
        name="Not the demo",
        slug="moda-wisla",
        website="https://example.com",
        country="PL",
    )

    # when
    output = _seed()

    # then
    assert "  skipped brand moda-wisla: the address belongs to another brand" in output
    assert "  brands: 3 (2 new)" in output
    assert Brand.objects.get(slug="moda-wisla").name == "Not the demo"
    assert not Campaign.objects.filter(brand__slug="moda-wisla").exists()
    assert Campaign.objects.count() == 5
    assert "brand-owner@moda-wisla.demo" not in output.split("Demo logins:", 1)[1]


def test_seed_demo_orders_are_processed_into_commissions_the_ledger_agrees_with(
    settings: Settings, tmp_path: Path
) -> None:
    # given
    _development(settings, tmp_path)

    # when
    output = _seed()

    # then: every event was processed, the earnings recompute identically, the ledger holds
    assert not OrderEvent.objects.filter(processed_at__isnull=True).exists()
    assert "  order events: 60 (60 new)" in output
    assert set(Order.objects.values_list("unattributed_reason", flat=True)) == {"", "unknown_code"}
    assert Commission.objects.filter(status="void").count() == 6  # the cancelled orders
    assert earnings_recompute().differences == []
    assert [c.failures for c in ledger_checks() if c.failures] == []


def test_seed_demo_adds_orders_for_a_collaboration_begun_since_the_last_run(
    settings: Settings, tmp_path: Path
) -> None:
    # given: a seeded database, then a demo creator joins another demo campaign
    _development(settings, tmp_path)
    _seed()
    marek = CreatorProfile.objects.get(handle="marek_biega")
    hiking = Campaign.objects.get(title="Hiking trips abroad")
    joined = collaboration_join(campaign=hiking, creator=marek)
    assert joined.status == "active"
    before = set(OrderEvent.objects.values_list("pk", flat=True))

    # when
    output = _seed()

    # then: only the new collaboration gets its orders, processed like the rest
    assert "  order events: 70 (10 new)" in output
    new = OrderEvent.objects.exclude(pk__in=before)
    assert {e.order_id.rsplit("-", 1)[0] for e in new} == {f"DEMO-{joined.pk}"}
    assert not new.filter(processed_at__isnull=True).exists()
    assert Commission.objects.filter(collaboration=joined).count() == 7


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def test_seed_demo_creator_with_approved_earnings_onboards_with_stripe_and_is_paid(
    settings: Settings,
    tmp_path: Path,
    stripe_server: StripeServer,  # noqa: F811 - the fixture imported above
) -> None:
    # given: the seeded demo, whose output names the creator who can try payouts
    _development(settings, tmp_path)
    output = _seed()
    assert "  payouts: @lucia_cocina has €72.00 approved to pay out" in output
    lucia = CreatorProfile.objects.get(handle="lucia_cocina")
    # (her other campaign holds commissions for 30 days: those stay pending)
    assert balances(lucia)["available"] == 7_200
    admin = User.objects.get(email=ADMIN_EMAIL)

    # when: she connects Stripe (submitting the onboarding form as her browser would),
    # requests a payout of everything, the staff admin approves it and a worker sends it
    link = stripe_onboarding_start(
        creator=lucia,
        return_url="http://testserver/payouts/stripe/return/",
        refresh_url="http://testserver/payouts/stripe/refresh/",
    )
    submitted = urllib.request.Request(link, data=b"", method="POST")  # noqa: S310
    with pytest.raises(urllib.error.HTTPError) as redirected:
        urllib.request.build_opener(_NoRedirect).open(submitted, timeout=5)
    assert redirected.value.code == 303
    assert redirected.value.headers["Location"] == "http://testserver/payouts/stripe/return/"
    account = stripe_account_refresh(creator=lucia)
    assert account is not None and account.ready
    payout = payout_services.payout_request(creator=lucia, currency="EUR")
    payout = payout_services.payout_approve(payout=payout, actor=admin)
    assert payout_services.payout_send(payout_id=payout.pk).outcome == "sent"

    # then: the money is on her connected account and on its way to her bank
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.SENT
    after = balances(lucia)
    assert (after["available"], after["in_flight"], after["paid_out"]) == (0, 0, 7_200)
    client = stripe_server.client()
    on_lucia: stripe.RequestOptions = {"stripe_account": account.stripe_account_id}
    bank_payout = client.v1.payouts.retrieve(payout.stripe_payout_id, options=on_lucia)
    assert (bank_payout.amount, bank_payout.currency, bank_payout.status) == (
        7_200,
        "eur",
        "pending",
    )

    # when: the server pays payouts out on their own, as under `make run`
    stripe_server.control("settings", settle_payouts_after=0)
    deadline = time.monotonic() + 5
    while bank_payout.status == "pending" and time.monotonic() < deadline:
        time.sleep(0.05)
        bank_payout = client.v1.payouts.retrieve(payout.stripe_payout_id, options=on_lucia)
    payout_services.payout_apply_connected_payout(
        stripe_payout=bank_payout, account_id=account.stripe_account_id
    )

    # then
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.PAID
    assert_ledger_ok()
