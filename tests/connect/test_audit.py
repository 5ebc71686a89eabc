"""The audit log: what each audited service records, that the table is append-only, that
its admin only reads, and the staff page's filters, pages and access."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.contrib.admin.sites import site as admin_site
from django.contrib.auth.models import Group
from django.db import IntegrityError, connection, transaction
from django.db.models import Model
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from campaigns.api_keys import brand_api_key_create, brand_api_key_revoke
from campaigns.models import (
    BrandInvitation,
    BrandMembership,
    BrandRole,
    CampaignStatus,
    CollaborationStatus,
    JoinMode,
)
from campaigns.services import (
    CampaignInput,
    TermsInput,
    brand_invitation_accept,
    brand_member_invite,
    brand_member_remove,
    brand_suspend,
    brand_unsuspend,
    brand_verify,
    campaign_publish,
    campaign_update,
    collaboration_accept,
    collaboration_join,
    collaboration_reject,
    collaboration_remove,
)
from connect.audit import audit_record
from connect.models import AuditEntry, User
from connect.privacy import user_account_delete
from connect.services import creator_suspend, creator_unsuspend
from connect.tokens import creator_token_create, creator_token_revoke
from payouts import payout_services
from payouts.models import (
    PayoutAccount,
    PayoutRail,
    ReconciliationDifference,
    ReconciliationKind,
)
from payouts.payout_accounts import bank_account_set, payout_rail_set
from payouts.reconciliation_actions import reconciliation_difference_resolve
from tests.browser import signed_in_page
from tests.campaigns.factories import (
    BrandFactory,
    BrandMembershipFactory,
    CampaignFactory,
    CollaborationFactory,
)
from tests.connect.factories import CreatorProfileFactory, UserFactory
from tests.payouts.factories import give_available

pytestmark = pytest.mark.django_db

AUDIT = "/staff/audit/"


def staff_user(email: str = "ada@connect.example") -> User:
    user: User = UserFactory(is_staff=True, email=email)
    return user


def owner_of(brand: Any) -> User:
    membership: BrandMembership = BrandMembershipFactory(brand=brand, role=BrandRole.OWNER)
    return membership.user


def iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


# --- every audited action writes one entry with the right actor, object, before and after ----


@dataclass
class Audited:
    """What an action did, for the table below: the one entry it must have written."""

    action: str
    actor: User | None
    target: Model
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)


def _brand_verify() -> Audited:
    brand = BrandFactory(verified_at=None)
    staff = staff_user()
    brand_verify(brand=brand, actor=staff)
    brand.refresh_from_db()
    return Audited(
        "campaigns.brand.verified",
        staff,
        brand,
        {"verified_at": None},
        {"verified_at": iso(brand.verified_at)},
    )


def _brand_suspend() -> Audited:
    brand = BrandFactory()
    staff = staff_user()
    brand_suspend(brand=brand, actor=staff, reason="Fake shop.")
    brand.refresh_from_db()
    return Audited(
        "campaigns.brand.suspended",
        staff,
        brand,
        {"suspended_at": None},
        {"suspended_at": iso(brand.suspended_at), "reason": "Fake shop."},
    )


def _brand_unsuspend() -> Audited:
    suspended_at = timezone.now() - dt.timedelta(days=1)
    brand = BrandFactory(suspended_at=suspended_at)
    staff = staff_user()
    brand_unsuspend(brand=brand, actor=staff, reason="Invoices paid.")
    return Audited(
        "campaigns.brand.unsuspended",
        staff,
        brand,
        {"suspended_at": iso(suspended_at)},
        {"suspended_at": None, "reason": "Invoices paid."},
    )


def _brand_member_invite() -> Audited:
    brand = BrandFactory()
    owner = owner_of(brand)
    invitation = brand_member_invite(
        brand=brand, actor=owner, email="New@Example.com", role=BrandRole.MANAGER
    )
    return Audited(
        "campaigns.brand_member.invited",
        owner,
        invitation,
        {},
        {"email": "new@example.com", "role": BrandRole.MANAGER},
    )


def _brand_invitation_accept() -> Audited:
    brand = BrandFactory()
    invited: User = UserFactory(email="new@example.com", verified=True)
    invitation = BrandInvitation.objects.create(
        brand=brand, email=invited.email, role=BrandRole.MANAGER, token="tok-1"
    )
    membership = brand_invitation_accept(token=invitation.token, user=invited)
    return Audited(
        "campaigns.brand_member.joined", invited, membership, {}, {"role": BrandRole.MANAGER}
    )


def _brand_member_remove() -> Audited:
    brand = BrandFactory()
    owner = owner_of(brand)
    member: BrandMembership = BrandMembershipFactory(brand=brand, role=BrandRole.MANAGER)
    target = BrandMembership(pk=member.pk)
    brand_member_remove(membership=member, actor=owner)
    return Audited(
        "campaigns.brand_member.removed",
        owner,
        target,
        {"user": member.user_id, "role": BrandRole.MANAGER},
        {},
    )


def _campaign_input(campaign: Any, **changes: Any) -> CampaignInput:
    values = {
        "title": campaign.title,
        "landing_url": campaign.landing_url,
        "niche": campaign.niche,
        "currency": campaign.currency,
        "join_mode": campaign.join_mode,
        "budget_minor": campaign.budget_minor,
    }
    return CampaignInput(**{**values, **changes})


def _campaign_budget_change() -> Audited:
    campaign = CampaignFactory(budget_minor=100_000)
    owner = owner_of(campaign.brand)
    campaign_update(
        campaign=campaign,
        actor=owner,
        data=_campaign_input(campaign, budget_minor=250_000),
        terms=TermsInput(commission_type="percent", commission_percent=Decimal("10.00")),
    )
    return Audited(
        "campaigns.campaign.budget_changed",
        owner,
        campaign,
        {"budget_minor": 100_000, "currency": "EUR"},
        {"budget_minor": 250_000, "currency": "EUR"},
    )


def _campaign_publish() -> Audited:
    campaign = CampaignFactory(status=CampaignStatus.DRAFT, published_at=None)
    owner = owner_of(campaign.brand)
    campaign_publish(campaign=campaign, actor=owner)
    return Audited(
        "campaigns.campaign.published",
        owner,
        campaign,
        {"status": CampaignStatus.DRAFT},
        {"status": CampaignStatus.ACTIVE},
    )


def _collaboration_join() -> Audited:
    campaign = CampaignFactory(join_mode=JoinMode.OPEN)
    creator = CreatorProfileFactory()
    collaboration = collaboration_join(campaign=campaign, creator=creator)
    return Audited(
        "campaigns.collaboration.joined",
        creator.user,
        collaboration,
        {"status": ""},
        {"status": CollaborationStatus.ACTIVE},
    )


def _collaboration_accept() -> Audited:
    collaboration = CollaborationFactory(
        status=CollaborationStatus.APPLIED, tracking_code=None, discount_code=None
    )
    owner = owner_of(collaboration.campaign.brand)
    collaboration_accept(collaboration=collaboration, actor=owner)
    return Audited(
        "campaigns.collaboration.accepted",
        owner,
        collaboration,
        {"status": CollaborationStatus.APPLIED},
        {"status": CollaborationStatus.ACTIVE},
    )


def _collaboration_reject() -> Audited:
    collaboration = CollaborationFactory(
        status=CollaborationStatus.APPLIED, tracking_code=None, discount_code=None
    )
    owner = owner_of(collaboration.campaign.brand)
    collaboration_reject(collaboration=collaboration, actor=owner, reason="Not our audience.")
    return Audited(
        "campaigns.collaboration.rejected",
        owner,
        collaboration,
        {"status": CollaborationStatus.APPLIED},
        {"status": CollaborationStatus.REJECTED, "reason": "Not our audience."},
    )


def _collaboration_remove() -> Audited:
    collaboration = CollaborationFactory()
    owner = owner_of(collaboration.campaign.brand)
    collaboration_remove(collaboration=collaboration, actor=owner, reason="Spam.")
    return Audited(
        "campaigns.collaboration.removed",
        owner,
        collaboration,
        {"status": CollaborationStatus.ACTIVE},
        {"status": CollaborationStatus.REMOVED, "reason": "Spam."},
    )


def _api_key_create() -> Audited:
    brand = BrandFactory()
    owner = owner_of(brand)
    api_key, _full = brand_api_key_create(brand=brand, actor=owner, name="Shop")
    return Audited(
        "campaigns.api_key.created",
        owner,
        api_key,
        {},
        {"brand": brand.pk, "name": "Shop", "prefix": api_key.prefix},
    )


def _api_key_revoke() -> Audited:
    brand = BrandFactory()
    owner = owner_of(brand)
    api_key, _full = brand_api_key_create(brand=brand, actor=None, name="Shop")
    revoked = brand_api_key_revoke(api_key=api_key, actor=owner)
    return Audited(
        "campaigns.api_key.revoked",
        owner,
        api_key,
        {"revoked_at": None},
        {"revoked_at": iso(revoked.revoked_at)},
    )


def _creator_token_create() -> Audited:
    creator = CreatorProfileFactory()
    token, _full = creator_token_create(creator=creator, actor=creator.user, name="Sheet")
    return Audited(
        "connect.creator_token.created",
        creator.user,
        token,
        {},
        {"creator": creator.pk, "name": "Sheet", "prefix": token.prefix},
    )


def _creator_token_revoke() -> Audited:
    creator = CreatorProfileFactory()
    token, _full = creator_token_create(creator=creator, actor=creator.user, name="Sheet")
    revoked = creator_token_revoke(token=token, actor=creator.user)
    return Audited(
        "connect.creator_token.revoked",
        creator.user,
        token,
        {"revoked_at": None},
        {"revoked_at": iso(revoked.revoked_at)},
    )


def _creator_suspend() -> Audited:
    creator = CreatorProfileFactory()
    staff = staff_user()
    creator_suspend(creator=creator, actor=staff, reason="Fake followers.")
    creator.refresh_from_db()
    suspension = creator.suspensions.get()
    return Audited(
        "connect.creator.suspended",
        staff,
        creator,
        {"suspended_at": None},
        {
            "suspended_at": iso(creator.suspended_at),
            "reason": "Fake followers.",
            "suspension": suspension.pk,
        },
    )


def _creator_unsuspend() -> Audited:
    creator = CreatorProfileFactory()
    staff = staff_user()
    creator_suspend(creator=creator, actor=staff, reason="Fake followers.")
    creator.refresh_from_db()
    suspended_at = creator.suspended_at
    creator_unsuspend(creator=creator, actor=staff, reason="Checked.")
    return Audited(
        "connect.creator.unsuspended",
        staff,
        creator,
        {"suspended_at": iso(suspended_at)},
        {"suspended_at": None, "reason": "Checked.", "periods_closed": 1},
    )


def _bank_creator() -> Any:
    creator = CreatorProfileFactory()
    bank_account_set(
        creator=creator,
        holder_name="Ola Nowak",
        iban="DE89370400440532013000",
        bic="COBADEFFXXX",
        actor=None,
    )
    give_available(creator, 10_000)
    return creator


def _payout_request() -> Audited:
    creator = _bank_creator()
    payout = payout_services.payout_request(
        creator=creator, currency="EUR", amount_minor=6_000, actor=creator.user
    )
    return Audited(
        "payouts.payout.requested",
        creator.user,
        payout,
        {},
        payout_services._snapshot(payout),
    )


def _payout_approve() -> Audited:
    creator = _bank_creator()
    payout = payout_services.payout_request(creator=creator, currency="EUR", amount_minor=6_000)
    before = payout_services._snapshot(payout)
    staff = staff_user()
    approved = payout_services.payout_approve(payout=payout, actor=staff)
    return Audited(
        "payouts.payout.approved", staff, payout, before, payout_services._snapshot(approved)
    )


def _payout_reject() -> Audited:
    creator = _bank_creator()
    payout = payout_services.payout_request(creator=creator, currency="EUR", amount_minor=6_000)
    before = payout_services._snapshot(payout)
    staff = staff_user()
    rejected = payout_services.payout_reject(payout=payout, actor=staff, reason="Fraud check.")
    return Audited(
        "payouts.payout.rejected",
        staff,
        payout,
        before,
        {**payout_services._snapshot(rejected), "reason": "Fraud check."},
    )


def _payout_bank_exported() -> Audited:
    creator = _bank_creator()
    payout = payout_services.payout_request(creator=creator, currency="EUR", amount_minor=6_000)
    staff = staff_user()
    payout = payout_services.payout_approve(payout=payout, actor=staff)
    payout_services.payout_bank_mark_exported(payouts=[payout], actor=staff)
    payout.refresh_from_db()
    return Audited(
        "payouts.payout.bank_exported",
        staff,
        payout,
        {"bank_exported_at": None},
        {"bank_exported_at": iso(payout.bank_exported_at)},
    )


def _payout_rail_set() -> Audited:
    creator = _bank_creator()
    account = PayoutAccount.objects.get(creator=creator)
    account.stripe_account_id = "acct_1"
    account.stripe_payouts_enabled = True
    account.stripe_transfers_active = True
    account.save()
    payout_rail_set(creator=creator, rail=PayoutRail.STRIPE, actor=creator.user)
    return Audited(
        "payouts.payout_account.rail_set",
        creator.user,
        account,
        {"rail": PayoutRail.BANK},
        {"rail": PayoutRail.STRIPE},
    )


def _reconciliation_resolve() -> Audited:
    difference = ReconciliationDifference.objects.create(
        kind=ReconciliationKind.AMOUNT_MISMATCH, stripe_transfer_id="tr_1", currency="EUR"
    )
    staff = staff_user()
    resolved = reconciliation_difference_resolve(difference=difference, actor=staff, note="Ok.")
    base = {
        "kind": ReconciliationKind.AMOUNT_MISMATCH,
        "payout": None,
        "stripe_transfer_id": "tr_1",
    }
    return Audited(
        "payouts.reconciliation_difference.resolved",
        staff,
        difference,
        {**base, "resolved_at": None, "resolved_by": None, "resolution_note": ""},
        {
            **base,
            "resolved_at": iso(resolved.resolved_at),
            "resolved_by": staff.pk,
            "resolution_note": "Ok.",
        },
    )


AUDITED_ACTIONS: list[Callable[[], Audited]] = [
    _brand_verify,
    _brand_suspend,
    _brand_unsuspend,
    _brand_member_invite,
    _brand_invitation_accept,
    _brand_member_remove,
    _campaign_budget_change,
    _campaign_publish,
    _collaboration_join,
    _collaboration_accept,
    _collaboration_reject,
    _collaboration_remove,
    _api_key_create,
    _api_key_revoke,
    _creator_token_create,
    _creator_token_revoke,
    _creator_suspend,
    _creator_unsuspend,
    _payout_request,
    _payout_approve,
    _payout_reject,
    _payout_bank_exported,
    _payout_rail_set,
    _reconciliation_resolve,
]


@pytest.mark.parametrize("act", AUDITED_ACTIONS, ids=lambda act: act.__name__.strip("_"))
def test_each_audited_action_writes_one_entry_with_actor_object_before_and_after(
    act: Callable[[], Audited],
) -> None:
    # given
    started = timezone.now()

    # when
    expected = act()

    # then
    entries = list(AuditEntry.objects.filter(action=expected.action))
    assert len(entries) == 1
    entry = entries[0]
    assert entry.actor_id == (expected.actor.pk if expected.actor else None)
    assert (entry.target_type, entry.target_id) == (
        expected.target._meta.label_lower,
        str(expected.target.pk),
    )
    assert entry.before == expected.before
    assert entry.after == expected.after
    assert started <= entry.created_at <= timezone.now()


def test_a_change_of_a_users_access_in_the_admin_is_audited() -> None:
    # given
    superuser: User = UserFactory(is_staff=True, is_superuser=True)
    user: User = UserFactory(first_name="Ola")
    group = Group.objects.create(name="Support")
    client = Client()
    client.force_login(superuser)
    form = {
        "email": user.email,
        "first_name": "Ola",
        "last_name": "",
        "is_active": "on",
        "is_staff": "on",
        "groups": [str(group.pk)],
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
    }

    # when
    response = client.post(f"/admin/connect/user/{user.pk}/change/", form)

    # then
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="connect.user.access_changed")
    assert (entry.actor, entry.target_id) == (superuser, str(user.pk))
    assert entry.before == {
        "is_active": True,
        "is_staff": False,
        "is_superuser": False,
        "groups": [],
        "permissions": [],
    }
    assert entry.after == {
        "is_active": True,
        "is_staff": True,
        "is_superuser": False,
        "groups": ["Support"],
        "permissions": [],
    }


def test_saving_a_user_without_changing_access_writes_nothing() -> None:
    # given
    superuser: User = UserFactory(is_staff=True, is_superuser=True)
    user: User = UserFactory(first_name="Ola")
    client = Client()
    client.force_login(superuser)
    form = {
        "email": user.email,
        "first_name": "Ola K.",
        "last_name": "",
        "is_active": "on",
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
    }

    # when
    response = client.post(f"/admin/connect/user/{user.pk}/change/", form)

    # then
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.first_name == "Ola K."
    assert not AuditEntry.objects.filter(action="connect.user.access_changed").exists()


# --- append-only -------------------------------------------------------------------------------


def _entry() -> AuditEntry:
    brand = BrandFactory()
    return audit_record(
        actor=staff_user(), action="campaigns.brand.verified", target=brand, after={"a": 1}
    )


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE connect_auditentry SET action = 'x' WHERE id = %s",
        "UPDATE connect_auditentry SET after = '{}'::jsonb WHERE id = %s",
        "UPDATE connect_auditentry SET created_at = now() - interval '1 day' WHERE id = %s",
        "DELETE FROM connect_auditentry WHERE id = %s",
    ],
)
def test_the_database_refuses_to_change_or_delete_an_audit_entry(sql: str) -> None:
    # given
    entry = _entry()

    # when
    with (
        pytest.raises(IntegrityError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [entry.pk])

    # then
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert (stored.action, stored.after, stored.created_at) == (
        "campaigns.brand.verified",
        {"a": 1},
        entry.created_at,
    )


def test_the_orm_cannot_delete_an_audit_entry_either() -> None:
    # given
    entry = _entry()

    # when
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()

    # then
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_deleting_a_user_keeps_their_entries_and_only_detaches_them() -> None:
    # given
    entry = _entry()
    actor = entry.actor
    assert actor is not None

    # when
    actor.delete()

    # then
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert stored.actor_id is None
    assert (stored.action, stored.after) == ("campaigns.brand.verified", {"a": 1})


def test_detaching_the_actor_while_changing_anything_else_is_refused() -> None:
    # given
    entry = _entry()

    # when
    with (
        pytest.raises(IntegrityError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE connect_auditentry SET actor_id = NULL, target_id = '0' WHERE id = %s",
            [entry.pk],
        )

    # then
    assert AuditEntry.objects.get(pk=entry.pk).actor_id == entry.actor_id


def _personal_entry() -> AuditEntry:
    return audit_record(
        actor=staff_user(),
        action="connect.creator_profile.updated",
        target=CreatorProfileFactory(),
        before={"handle": "ola", "country": "PL"},
        after={"handle": "ola_creates", "country": "PL"},
    )


def _update_while_erasing(sql: str, *params: Any) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL connect.audit_erasure = 'on'")
        cursor.execute(sql, params)


def test_erasure_may_only_replace_values_with_the_marker() -> None:
    # given
    entry = _personal_entry()

    # when
    _update_while_erasing(
        "UPDATE connect_auditentry SET after = jsonb_set(after, '{handle}', '\"[erased]\"') "
        "WHERE id = %s",
        entry.pk,
    )

    # then
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert stored.after == {"handle": "[erased]", "country": "PL"}
    assert (stored.action, stored.actor_id, stored.created_at) == (
        entry.action,
        entry.actor_id,
        entry.created_at,
    )


@pytest.mark.parametrize(
    "sql",
    [
        # another value than the marker
        "UPDATE connect_auditentry SET after = jsonb_set(after, '{handle}', '\"someone\"') "
        "WHERE id = %s",
        # a key dropped, or added
        "UPDATE connect_auditentry SET after = after - 'handle' WHERE id = %s",
        'UPDATE connect_auditentry SET after = after || \'{"x": "[erased]"}\' WHERE id = %s',
        # anything beside the payload
        "UPDATE connect_auditentry SET action = 'x', after = jsonb_set(after, '{handle}', "
        "'\"[erased]\"') WHERE id = %s",
        "DELETE FROM connect_auditentry WHERE id = %s",
    ],
)
def test_erasure_refuses_every_other_change(sql: str) -> None:
    # given
    entry = _personal_entry()

    # when
    with pytest.raises(IntegrityError, match="append-only"):
        _update_while_erasing(sql, entry.pk)

    # then
    assert AuditEntry.objects.get(pk=entry.pk).after == {"handle": "ola_creates", "country": "PL"}


def test_without_the_erasure_setting_even_the_marker_is_refused() -> None:
    # given
    entry = _personal_entry()

    # when
    with (
        pytest.raises(IntegrityError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE connect_auditentry SET after = jsonb_set(after, '{handle}', "
            "'\"[erased]\"') WHERE id = %s",
            [entry.pk],
        )

    # then
    assert AuditEntry.objects.get(pk=entry.pk).after["handle"] == "ola_creates"


# --- the admin only reads ----------------------------------------------------------------------


def test_the_audit_admin_has_no_add_change_or_delete() -> None:
    # given
    superuser: User = UserFactory(is_staff=True, is_superuser=True)
    request = RequestFactory().get("/admin/")
    request.user = superuser
    model_admin = admin_site._registry[AuditEntry]
    entry = _entry()
    client = Client()
    client.force_login(superuser)

    # when
    add = client.get("/admin/connect/auditentry/add/")
    delete = client.post(f"/admin/connect/auditentry/{entry.pk}/delete/", {"post": "yes"})
    change = client.post(
        f"/admin/connect/auditentry/{entry.pk}/change/", {"action": "changed.by.hand"}
    )
    listing = client.get("/admin/connect/auditentry/")

    # then
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, entry)
    assert not model_admin.has_delete_permission(request, entry)
    assert add.status_code == 403
    assert delete.status_code == 403
    assert change.status_code == 403
    assert listing.status_code == 200
    assert "delete_selected" not in listing.content.decode()
    assert AuditEntry.objects.get(pk=entry.pk).action == "campaigns.brand.verified"


# --- the staff page ----------------------------------------------------------------------------


def _signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_audit_page_sends_anonymous_visitors_to_login_and_refuses_non_staff() -> None:
    # given
    creator = CreatorProfileFactory()

    # when
    anonymous = Client().get(AUDIT)
    not_staff = _signed_in(creator.user).get(AUDIT)

    # then
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/")
    assert not_staff.status_code == 403


def test_the_audit_page_shows_actor_time_action_object_and_the_diff() -> None:
    # given
    creator = _bank_creator()
    payout = payout_services.payout_request(creator=creator, currency="EUR", amount_minor=6_000)
    staff = staff_user()
    payout_services.payout_reject(payout=payout, actor=staff, reason="Fraud check.")

    # when
    response = _signed_in(staff).get(AUDIT, {"action": "payouts.payout.rejected"})

    # then
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("data-audit-entry=") == 1
    assert "payouts.payout.rejected" in page
    assert staff.email in page
    assert f'href="/staff/payouts/{payout.pk}/"' in page
    assert "<del>requested</del>" in page
    assert "<ins>rejected</ins>" in page
    assert "<ins>Fraud check.</ins>" in page
    assert "data-ledger-note" in page


def _entries_for(brand: Any, count: int, actor: User | None = None) -> list[AuditEntry]:
    return [
        audit_record(actor=actor, action=f"campaigns.brand.test_{i}", target=brand)
        for i in range(count)
    ]


def _shown_ids(response: Any) -> list[int]:
    return [row["entry"].pk for row in response.context["rows"]]


def test_the_audit_page_filters_by_action_prefix_actor_object_and_dates() -> None:
    # given
    staff = staff_user()
    other = staff_user("bo@connect.example")
    brand = BrandFactory()
    other_brand = BrandFactory()
    mine = audit_record(actor=staff, action="campaigns.brand.verified", target=brand)
    theirs = audit_record(actor=other, action="campaigns.brand.verified", target=other_brand)
    payout_like = audit_record(actor=other, action="payouts.payout.approved", target=brand)
    client = _signed_in(staff)
    today = timezone.localdate()

    # when
    by_prefix = client.get(AUDIT, {"action": "campaigns."})
    by_actor_email = client.get(AUDIT, {"actor": "BO@connect.example"})
    by_actor_id = client.get(AUDIT, {"actor": str(staff.pk)})
    by_object = client.get(
        AUDIT, {"target_type": "campaigns.brand", "target_id": str(other_brand.pk)}
    )
    today_only = client.get(AUDIT, {"date_from": today.isoformat(), "date_to": today.isoformat()})
    tomorrow = client.get(AUDIT, {"date_from": (today + dt.timedelta(days=1)).isoformat()})
    yesterday = client.get(AUDIT, {"date_to": (today - dt.timedelta(days=1)).isoformat()})

    # then
    assert _shown_ids(by_prefix) == [theirs.pk, mine.pk]
    assert _shown_ids(by_actor_email) == [payout_like.pk, theirs.pk]
    assert _shown_ids(by_actor_id) == [mine.pk]
    assert _shown_ids(by_object) == [theirs.pk]
    assert _shown_ids(today_only) == [payout_like.pk, theirs.pk, mine.pk]
    assert _shown_ids(tomorrow) == []
    assert _shown_ids(yesterday) == []


def test_the_audit_page_pages_newest_first_by_time_and_id_keeping_filters() -> None:
    # given
    staff = staff_user()
    brand = BrandFactory()
    entries = _entries_for(brand, 120)
    audit_record(actor=staff, action="payouts.payout.approved", target=brand)
    client = _signed_in(staff)
    newest_first = [entry.pk for entry in reversed(entries)]

    # when
    first = client.get(AUDIT, {"action": "campaigns.brand.test_"})
    second = client.get(first.context["next_url"])
    third = client.get(second.context["next_url"])

    # then
    assert _shown_ids(first) + _shown_ids(second) + _shown_ids(third) == newest_first
    assert [len(_shown_ids(page)) for page in (first, second, third)] == [50, 50, 20]
    assert "action=campaigns.brand.test_" in first.context["next_url"]
    assert third.context["next_url"] is None
    assert first.context["first_url"] is None
    assert second.context["first_url"] == f"{AUDIT}?action=campaigns.brand.test_"


def test_entries_written_in_the_same_instant_page_by_id() -> None:
    # given: 60 entries sharing one created_at (inserted directly, as a busy second would)
    staff = staff_user()
    brand = BrandFactory()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO connect_auditentry "
            "(created_at, action, target_type, target_id, before, after) "
            "SELECT now(), 'campaigns.brand.test_' || n, 'campaigns.brand', %s, '{}', '{}' "
            "FROM generate_series(1, 60) AS n",
            [str(brand.pk)],
        )
    entries = list(AuditEntry.objects.filter(action__startswith="campaigns.brand.test_"))
    assert len({entry.created_at for entry in entries}) == 1
    client = _signed_in(staff)

    # when
    first = client.get(AUDIT, {"action": "campaigns.brand.test_"})
    second = client.get(first.context["next_url"])

    # then
    assert _shown_ids(first) + _shown_ids(second) == sorted(
        (entry.pk for entry in entries), reverse=True
    )
    assert len(_shown_ids(first)) == 50


def test_a_broken_cursor_shows_the_first_page() -> None:
    # given
    staff = staff_user()
    entries = _entries_for(BrandFactory(), 3)

    # when
    response = _signed_in(staff).get(AUDIT, {"after": "not-a-cursor|x"})

    # then
    assert response.status_code == 200
    assert _shown_ids(response)[:3] == [e.pk for e in reversed(entries)]


def test_the_staff_dashboard_and_navbar_link_the_audit_log() -> None:
    # given
    staff = staff_user()

    # when
    response = _signed_in(staff).get(reverse("dashboards:staff"))

    # then
    assert response.status_code == 200
    assert response.content.decode().count(f'href="{AUDIT}"') == 2


# --- in the browser ---------------------------------------------------------------------------


@pytest.mark.browser
def test_staff_read_and_filter_the_audit_log_in_chromium(
    live_server: Any, browser: Browser, screenshot: Callable[[Page, str], Path]
) -> None:
    # given a rejected payout, and a creator who deleted her account after setting her bank
    creator = _bank_creator()
    payout = payout_services.payout_request(creator=creator, currency="EUR", amount_minor=6_000)
    staff = staff_user()
    payout_services.payout_reject(payout=payout, actor=staff, reason="Fraud check.")
    gone = _bank_creator()
    user_account_delete(user=gone.user)
    page = signed_in_page(browser, live_server.url, staff.email)

    # when staff open the log
    page.goto(f"{live_server.url}{AUDIT}")

    # then the newest entries show, the deleted creator's bank holder erased
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    bank_set = page.locator(
        f"[data-audit-action='payouts.payout_account.bank_set']:has-text('#{gone.payout_account.pk}')"
    )
    expect(bank_set.locator("tr[data-field=holder_name] td[data-after]")).to_have_text("[erased]")
    screenshot(page, "audit-log")

    # when they filter on payouts
    page.get_by_label("Action").fill("payouts.payout.")
    page.get_by_role("button", name="Filter").click()

    # then only the payout entries are left, with the rejection's diff and a link to it
    rejected = page.locator("[data-audit-action='payouts.payout.rejected']")
    expect(rejected).to_have_count(1)
    expect(rejected.locator("tr[data-field=reason] td[data-after]")).to_have_text("Fraud check.")
    actions = page.locator("[data-audit-entry]").evaluate_all(
        "els => els.map(e => e.dataset.auditAction)"
    )
    assert actions and all(a.startswith("payouts.payout.") for a in actions)
    screenshot(page, "audit-log-filtered")
    rejected.get_by_role("link", name=f"payouts.payout #{payout.pk}").click()
    expect(page).to_have_url(f"{live_server.url}/staff/payouts/{payout.pk}/")
    page.context.close()
