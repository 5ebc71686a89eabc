"""Privacy: the data export, account deletion (money records kept, person erased) and the
expiry of click IP hashes."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from campaigns import clicks, tasks
from campaigns.models import BrandInvitation, BrandMembership, BrandRole, Campaign, Collaboration
from campaigns.models import CollaborationStatus as Status
from campaigns.services.brands import brand_member_invite
from connect import privacy
from connect.models import AuditEntry, CreatorAccessToken, CreatorProfile, SocialAccount, User
from connect.privacy import user_account_delete, user_data_export
from connect.services import creator_profile_update
from connect.tokens import creator_token_create
from payouts import payout_services
from payouts.models import Commission, LedgerEntry, Order, Payout, PayoutAccount, PayoutStatus
from payouts.payout_accounts import bank_account_set
from tests.campaigns.factories import (
    BrandMembershipFactory,
    CampaignFactory,
    CollaborationFactory,
    niche,
)
from tests.connect.factories import PASSWORD, CreatorProfileFactory, SocialAccountFactory
from tests.payouts.factories import give_available
from tests.payouts.payout_helpers import assert_ledger_ok, staff
from tests.payouts.pipeline import code_of, event, send

pytestmark = pytest.mark.django_db

IBAN = "DE89370400440532013000"
PRIVACY = "/settings/privacy/"
EXPORT = "/settings/privacy/export/"
DELETE = "/settings/privacy/delete/"


def signed_in(user: User, **kwargs: Any) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def seeded_creator(handle: str, campaign: Campaign, order_id: str) -> CreatorProfile:
    """A creator with everything the export covers: socials, niches, a token, a bank
    account, a collaboration and a commission made by the real pipeline."""
    creator: CreatorProfile = CreatorProfileFactory(
        handle=handle, user__email=f"{handle}@example.com", bio=f"Bio of {handle}"
    )
    SocialAccountFactory(profile=creator, handle=f"insta_{handle}")
    creator.niches.add(niche("fashion"))
    creator_token_create(creator=creator, actor=creator.user, name=f"Script of {handle}")
    bank_account_set(
        creator=creator, holder_name=f"Holder {handle}", iban=IBAN, bic="COBADEFFXXX", actor=None
    )
    collaboration = CollaborationFactory(campaign=campaign, creator=creator)
    send(campaign.brand, event(f"evt-{order_id}", order_id=order_id, code=code_of(collaboration)))
    return creator


def export_json(user: User) -> tuple[dict[str, Any], Any]:
    response = signed_in(user).post(EXPORT)
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode()
    return json.loads(text), response


@pytest.fixture
def campaign() -> Campaign:
    return CampaignFactory(title="Spring")


# --- export -----------------------------------------------------------------------------------


def test_the_export_holds_the_users_data_and_nothing_of_another_user(campaign: Campaign) -> None:
    # given two creators with the same kinds of data
    ola = seeded_creator("ola", campaign, "A-1")
    other = seeded_creator("kasia", campaign, "B-1")
    token = CreatorAccessToken.objects.get(creator=ola)

    # when Ola downloads her data
    data, response = export_json(ola.user)

    # then it is a JSON attachment with her data
    assert response.streaming
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="connect-data-{timezone.now():%Y-%m-%d}.json"'
    )
    assert data["user"]["email"] == "ola@example.com"
    assert data["email_addresses"] == [
        {"email": "ola@example.com", "verified": True, "primary": True}
    ]
    profile = data["creator_profile"]
    assert (profile["handle"], profile["bio"], profile["niches"]) == (
        "ola",
        "Bio of ola",
        ["fashion"],
    )
    assert [s["handle"] for s in profile["social_accounts"]] == ["insta_ola"]
    assert data["payout_account"]["bank_iban_last4"] == "3000"
    assert data["payout_account"]["bank_holder_name"] == "Holder ola"
    assert [c["campaign"] for c in data["collaborations"]] == ["Spring"]
    commission = Commission.objects.get(creator_id=ola.pk)
    assert data["commissions"] == [
        {
            "id": commission.pk,
            "order_ref": "A-1",
            "campaign_id": campaign.pk,
            "commission": {
                "amount": f"{commission.amount_minor / 100:.2f}",
                "currency": "EUR",
            },
            "order_net": {"amount": "100.00", "currency": "EUR"},
            "status": commission.status,
            "paid_received_at": commission.paid_received_at.isoformat(),
            "payable_at": commission.payable_at.isoformat() if commission.payable_at else None,
            "approved_at": None,
            "created_at": commission.created_at.isoformat(),
        }
    ]
    assert data["creator_tokens"] == [
        {
            "name": "Script of ola",
            "prefix": token.prefix,
            "created_at": token.created_at.isoformat(),
            "last_used_at": None,
            "revoked_at": None,
        }
    ]
    assert data["brand_memberships"] == []
    # and nothing of the other creator, and no secret
    text = json.dumps(data)
    other_token = CreatorAccessToken.objects.get(creator=other)
    for foreign in (
        "kasia",
        "B-1",
        other_token.prefix,
        code_of(Collaboration.objects.get(creator=other)),
    ):
        assert foreign not in text
    assert IBAN not in text and IBAN[:8] not in text
    account = PayoutAccount.objects.get(creator=ola)
    assert account.bank_iban_encrypted not in text
    assert token.secret_hash not in text
    # and the export itself is audited
    assert AuditEntry.objects.filter(
        action="connect.user.data_exported", target_id=str(ola.user.pk), actor=ola.user
    ).exists()


def test_the_export_streams_many_commissions_in_chunks(
    campaign: Campaign, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a creator with more commissions than one cursor chunk
    monkeypatch.setattr(privacy, "EXPORT_CHUNK_SIZE", 3)
    creator: CreatorProfile = CreatorProfileFactory()
    collaboration = CollaborationFactory(campaign=campaign, creator=creator)
    send(
        campaign.brand,
        *(event(f"evt-{n}", order_id=f"O-{n}", code=code_of(collaboration)) for n in range(10)),
    )

    # when the export is read chunk by chunk
    with CaptureQueriesContext(connection) as queries:
        export = user_data_export(user=creator.user)
        chunks = [next(export)]
        read_before_first_chunk = [q["sql"] for q in queries.captured_queries]
        chunks.extend(export)

    # then no commission was read before the first chunk went out, they came through a
    # server-side cursor, each as its own piece, and the whole is valid JSON
    assert not any("payouts_commission" in sql for sql in read_before_first_chunk)
    assert any(
        "DECLARE" in q["sql"] and "payouts_commission" in q["sql"] for q in queries.captured_queries
    )
    commission_chunks = [c for c in chunks if '"order_ref"' in c]
    assert len(commission_chunks) == 10
    data = json.loads("".join(chunks))
    assert sorted(c["order_ref"] for c in data["commissions"]) == [f"O-{n}" for n in range(10)]


def test_a_brand_member_without_a_creator_profile_exports_their_memberships() -> None:
    membership = BrandMembershipFactory(brand__name="Acme", role=BrandRole.OWNER)

    data, _response = export_json(membership.user)

    assert data["creator_profile"] is None and data["payout_account"] is None
    assert [(m["brand"], m["role"]) for m in data["brand_memberships"]] == [("Acme", "owner")]
    assert "commissions" not in data


def test_export_and_deletion_need_the_csrf_token(campaign: Campaign) -> None:
    creator = seeded_creator("ola", campaign, "A-1")
    client = signed_in(creator.user, enforce_csrf_checks=True)

    assert client.post(EXPORT).status_code == 403
    assert client.post(DELETE, {"password": PASSWORD}).status_code == 403
    assert User.objects.get(pk=creator.user.pk).is_active


def test_the_page_needs_a_signed_in_user_and_is_linked_from_the_account_menu(
    campaign: Campaign,
) -> None:
    creator: CreatorProfile = CreatorProfileFactory()

    assert Client().get(PRIVACY).status_code == 302
    assert Client().post(EXPORT).status_code == 302
    page = signed_in(creator.user).get(reverse("connect:tokens"))
    assert f'href="{PRIVACY}"' in page.content.decode()
    assert signed_in(creator.user).get(PRIVACY).status_code == 200


# --- deletion ---------------------------------------------------------------------------------


def test_deletion_erases_the_person_and_keeps_the_money_records(
    campaign: Campaign, django_capture_on_commit_callbacks: Any
) -> None:
    # given a creator with earnings, a paid payout, an avatar, MFA and a session
    creator = seeded_creator("ola", campaign, "A-1")
    user = creator.user
    creator.avatar.save("ola.png", ContentFile(b"png"), save=True)
    avatar_name = creator.avatar.name
    storage = creator.avatar.storage
    Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={})
    give_available(creator, 10_000)
    payout = payout_services.payout_request(creator=creator, currency="EUR")
    admin = staff()
    payout_services.payout_approve(payout=payout, actor=admin)
    payout_services.payout_bank_mark_exported(payouts=[payout], actor=admin)
    payout_services.payout_bank_mark_paid(payout=payout, actor=admin, reference="SEPA-1")
    commission = Commission.objects.get(creator_id=creator.pk)
    money_before = {
        "commissions": list(Commission.objects.values_list("id", "amount_minor", "creator_id")),
        "orders": list(Order.objects.values_list("id", "commission_minor")),
        "ledger": LedgerEntry.objects.count(),
        "payout": Payout.objects.filter(pk=payout.pk).values().get(),
    }
    applied = CollaborationFactory(
        creator=creator,
        status=Status.APPLIED,
        pitch="Hire me",
        tracking_code=None,
        discount_code=None,
        activated_at=None,
    )
    client, other_device = Client(), Client()
    assert client.login(email="ola@example.com", password=PASSWORD)
    assert other_device.login(email="ola@example.com", password=PASSWORD)

    # when she deletes her account through the page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(DELETE, {"password": PASSWORD})

    # then she is signed out and every personal field is gone
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
    user.refresh_from_db()
    assert user.email.startswith("deleted-") and user.email.endswith("@invalid")
    assert (user.is_active, user.has_usable_password(), user.first_name) == (False, False, "")
    assert not EmailAddress.objects.filter(user=user).exists()
    assert not Authenticator.objects.filter(user=user).exists()
    creator.refresh_from_db()
    assert creator.handle == f"deleted_{creator.pk}"
    assert creator.display_name == "Deleted creator"
    assert (creator.bio, creator.avatar.name, str(creator.country), creator.languages) == (
        "",
        "",
        "",
        [],
    )
    assert list(creator.niches.all()) == []
    assert not SocialAccount.objects.filter(profile=creator).exists()
    assert not storage.exists(avatar_name)
    assert not CreatorAccessToken.objects.filter(creator=creator, revoked_at__isnull=True).exists()
    account = PayoutAccount.objects.get(creator=creator)
    assert (account.bank_iban_encrypted, account.bank_holder_name, account.bank_bic) == ("", "", "")
    assert account.bank_iban_last4 == "3000"
    collaboration = Collaboration.objects.get(creator=creator, campaign=campaign)
    assert collaboration.status == Status.REMOVED
    assert collaboration.removed_at is not None
    applied.refresh_from_db()
    assert (applied.status, applied.pitch) == (Status.REJECTED, "")
    # and her sessions, on this device and another, are deleted
    assert not any(
        s.get_decoded().get("_auth_user_id") == str(user.pk) for s in Session.objects.all()
    )
    assert other_device.get(PRIVACY).status_code == 302
    # and the money records are untouched and the ledger still balances
    assert (
        list(Commission.objects.values_list("id", "amount_minor", "creator_id"))
        == (money_before["commissions"])
    )
    assert list(Order.objects.values_list("id", "commission_minor")) == money_before["orders"]
    assert LedgerEntry.objects.count() == money_before["ledger"]
    after = Payout.objects.filter(pk=payout.pk).values().get()
    assert {k: v for k, v in after.items() if k != "updated_at"} == {
        k: v for k, v in money_before["payout"].items() if k != "updated_at"
    }
    assert Commission.objects.get(pk=commission.pk).creator_id == creator.pk
    assert_ledger_ok()
    # and an audit entry without personal data records it
    entry = AuditEntry.objects.get(action="connect.user.deleted")
    assert entry.target_id == str(user.pk) and entry.actor is None
    assert "ola" not in json.dumps([entry.before, entry.after])


def test_deletion_erases_her_personal_data_from_the_audit_log_and_keeps_the_entries(
    campaign: Campaign,
) -> None:
    # given entries about her profile, bank account, token and an invitation to her address,
    # and entries about another creator
    creator = seeded_creator("ola", campaign, "A-1")
    other = seeded_creator("kuba", campaign, "B-1")
    for profile in (creator, other):
        creator_profile_update(
            profile=profile,
            actor=profile.user,
            handle=f"{profile.handle}_creates",
            display_name=f"{profile.handle.title()} Kowalska",
            country="PL",
            bio=f"Bio of {profile.handle}",
        )
    owner = BrandMembershipFactory(brand=campaign.brand).user
    brand_member_invite(brand=campaign.brand, actor=owner, email="OLA@example.com", role="manager")
    brand_member_invite(brand=campaign.brand, actor=owner, email="kuba@example.com", role="manager")
    entries_before = dict(AuditEntry.objects.values_list("id", "action"))
    others_before = [
        (e.pk, e.before, e.after)
        for e in AuditEntry.objects.order_by("id")
        if "kuba" in str(e.after)
    ]
    assert others_before

    # when
    user_account_delete(user=creator.user)

    # then no entry holds her name, handle, bio, address, bank holder or token name...
    log = json.dumps([[e.before, e.after] for e in AuditEntry.objects.all()])
    for personal in ("ola_creates", "Ola Kowalska", "Bio of ola", "ola@example.com",
                     "OLA@example.com", "Holder ola", "Script of ola"):  # fmt: skip
        assert personal.lower() not in log.lower(), personal
    # ...but every entry is still there, with its action, and says what was erased
    entries_after = dict(AuditEntry.objects.values_list("id", "action"))
    assert {k: v for k, v in entries_after.items() if k in entries_before} == entries_before
    updated = AuditEntry.objects.get(
        action="connect.creator_profile.updated", target_id=str(creator.pk)
    )
    assert updated.after["handle"] == "[erased]" and updated.after["display_name"] == "[erased]"
    assert updated.after["country"] == "[erased]"
    assert updated.before["handle"] == "[erased]"
    invitation = AuditEntry.objects.get(
        action="campaigns.brand_member.invited", after__role="manager", after__email="[erased]"
    )
    assert invitation.actor_id == owner.pk
    deleted = AuditEntry.objects.get(action="connect.user.deleted")
    assert deleted.after["audit_entries_erased"] >= 4
    # and the invitation row no longer names her either
    assert not BrandInvitation.objects.filter(email__iexact="ola@example.com").exists()
    assert BrandInvitation.objects.filter(email="kuba@example.com").exists()
    # and another creator's entries are untouched
    others_after = [
        (e.pk, e.before, e.after)
        for e in AuditEntry.objects.order_by("id")
        if "kuba" in str(e.after)
    ]
    assert others_after == others_before


def test_after_deletion_the_profile_is_gone_and_the_old_credentials_fail(
    campaign: Campaign,
) -> None:
    # given
    creator = seeded_creator("ola", campaign, "A-1")

    # when
    user_account_delete(user=creator.user)

    # then
    assert Client().get("/@ola").status_code == 404
    assert Client().get(f"/@deleted_{creator.pk}").status_code == 404
    assert not Client().login(email="ola@example.com", password=PASSWORD)
    viewer = BrandMembershipFactory().user
    directory = signed_in(viewer).get(reverse("connect:directory")).content.decode()
    assert "Deleted creator" not in directory and "@ola" not in directory


def test_the_deleted_creators_discount_code_no_longer_attributes(campaign: Campaign) -> None:
    # given a creator whose code earned on an order
    creator = seeded_creator("ola", campaign, "A-1")
    collaboration = Collaboration.objects.get(creator=creator)
    code = code_of(collaboration)
    assert Commission.objects.filter(order__order_id="A-1", amount_minor__gt=0).exists()

    # when she deletes her account and a new order comes with her code
    user_account_delete(user=creator.user)
    send(campaign.brand, event("evt-A-2", order_id="A-2", code=code, occurred_at=timezone.now()))

    # then the new order is not attributed, and the old commission stays
    order = Order.objects.get(order_id="A-2")
    assert order.commission_minor == 0 and order.unattributed_reason != ""
    assert not Commission.objects.filter(order=order).exists()
    assert Commission.objects.filter(order__order_id="A-1", amount_minor__gt=0).exists()
    assert_ledger_ok()


def test_deletion_is_refused_while_a_payout_is_open(campaign: Campaign) -> None:
    # given a requested payout
    creator = seeded_creator("ola", campaign, "A-1")
    give_available(creator, 10_000)
    payout = payout_services.payout_request(creator=creator, currency="EUR")
    assert payout.status == PayoutStatus.REQUESTED

    # when she asks to delete her account
    response = signed_in(creator.user).post(DELETE, {"password": PASSWORD})

    # then it is refused with what to do, and nothing changed
    assert response.status_code == 409
    assert "payout in progress" in response.content.decode()
    assert "Wait until it is paid or rejected" in response.content.decode()
    creator.refresh_from_db()
    assert creator.handle == "ola" and creator.user.is_active
    with pytest.raises(ValidationError, match="payout in progress"):
        user_account_delete(user=creator.user)


def test_deletion_is_refused_for_a_brands_last_owner() -> None:
    # given the only owner of a brand
    membership = BrandMembershipFactory(brand__name="Acme", role=BrandRole.OWNER)
    user = membership.user

    # when / then
    with pytest.raises(ValidationError, match="last owner of Acme"):
        user_account_delete(user=user)
    assert User.objects.get(pk=user.pk).is_active

    # given a second owner, the first may go, and their membership goes with them
    BrandMembershipFactory(brand=membership.brand, role=BrandRole.OWNER)
    user_account_delete(user=user)
    assert not BrandMembership.objects.filter(user=user).exists()
    assert BrandMembership.objects.filter(brand=membership.brand).count() == 1


def test_a_wrong_password_deletes_nothing(campaign: Campaign) -> None:
    creator = seeded_creator("ola", campaign, "A-1")

    response = signed_in(creator.user).post(DELETE, {"password": "not-it"})

    assert response.status_code == 400
    assert "This is not your password." in response.content.decode()
    assert User.objects.get(pk=creator.user.pk).email == "ola@example.com"


def test_deleting_twice_changes_nothing_the_second_time(campaign: Campaign) -> None:
    creator = seeded_creator("ola", campaign, "A-1")
    first = user_account_delete(user=creator.user)

    second = user_account_delete(user=creator.user)

    assert second.email == first.email
    assert AuditEntry.objects.filter(action="connect.user.deleted").count() == 1


# --- click IP hashes --------------------------------------------------------------------------


def _partition(day: dt.date) -> str:
    name = f"{clicks.PARTITION_PREFIX}{day:%Y%m%d}"
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF campaigns_click "
            "FOR VALUES FROM (%s) TO (%s)",
            [start, start + dt.timedelta(days=1)],
        )
    return name


def _click(at: dt.datetime) -> uuid.UUID:
    click_id = uuid.uuid4()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO campaigns_click (click_id, clicked_at, collaboration_id, ip_hash) "
            "VALUES (%s, %s, 1, %s)",
            [click_id, at, "ab" * 32],
        )
    return click_id


def _hashes() -> dict[uuid.UUID, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT click_id, ip_hash FROM campaigns_click")
        return dict(cursor.fetchall())


def test_click_ip_hashes_expire_only_for_old_clicks_and_once(settings: Any) -> None:
    # given clicks 40 days old (own partition), 60 days old (default partition), 29 days old
    # and today
    today = timezone.now().date()
    old_day = today - dt.timedelta(days=40)
    recent_day = today - dt.timedelta(days=29)
    old_partition = _partition(old_day)
    _partition(recent_day)
    noon = dt.time(12, tzinfo=dt.UTC)
    old = _click(dt.datetime.combine(old_day, noon))
    older_in_default = _click(dt.datetime.combine(today - dt.timedelta(days=60), noon))
    recent = _click(dt.datetime.combine(recent_day, noon))
    fresh = _click(timezone.now())
    settings.CLICK_IP_HASH_RETENTION_DAYS = 30

    # when the daily task runs
    result = tasks.click_ip_hashes_expire()

    # then only the clicks older than 30 days lost their hash
    assert old_partition in result["partitions"]
    assert result["blanked_in_default"] == 1
    hashes = _hashes()
    assert (hashes[old], hashes[older_in_default]) == ("", "")
    assert hashes[recent] == hashes[fresh] == "ab" * 32

    # when it runs again, the expired partition is skipped and nothing changes
    again = clicks.click_ip_hashes_expire(days=30)
    assert old_partition not in again["partitions"]
    assert again["blanked_in_default"] == 0
    assert _hashes() == hashes


def test_the_ip_hash_expiry_runs_daily_from_beat(settings: Any) -> None:
    entries = [
        e
        for e in settings.CELERY_BEAT_SCHEDULE.values()
        if e["task"] == "campaigns.click_ip_hashes_expire"
    ]
    assert len(entries) == 1
    assert entries[0]["schedule"].hour == {2}
    assert settings.CLICK_IP_HASH_RETENTION_DAYS == 30


# --- in the browser ---------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_creator_downloads_her_data_and_deletes_her_account_in_chromium(
    live_server: Any, browser: Browser, screenshot: Callable[[Page, str], Path]
) -> None:
    # given a signed-in creator
    creator = seeded_creator("ola", CampaignFactory(title="Spring"), "A-1")
    base = live_server.url
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", "ola@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign In").click()

    # when she opens the privacy page from the account menu and downloads her data
    page.get_by_role("button", name="ola@example.com").click()
    page.get_by_role("link", name="Privacy and your data").click()
    expect(page).to_have_url(f"{base}{PRIVACY}")
    screenshot(page, "privacy-page")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download my data").click()
    download = download_info.value

    # then the file is her data
    assert download.suggested_filename == f"connect-data-{timezone.now():%Y-%m-%d}.json"
    data = json.loads(Path(download.path()).read_text())
    assert data["creator_profile"]["handle"] == "ola"

    # when she deletes her account with her password
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Delete my account").click()

    # then she is signed out and told so, and her page is gone
    expect(page.get_by_text("Your account is deleted.")).to_be_visible()
    nav = page.get_by_role("navigation", name="Main navigation")
    expect(nav.get_by_role("link", name="Sign in")).to_be_visible()
    screenshot(page, "account-deleted")
    assert page.goto(f"{base}/@ola").status == 404
    assert not User.objects.get(pk=creator.user.pk).is_active
    context.close()
