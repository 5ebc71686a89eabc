"""Staff suspend and reinstate creators: the services, their periods and audit entries, the
admin actions, and the payouts a suspension holds."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from connect.models import AuditEntry, CreatorProfile, CreatorSuspension, User
from connect.services import creator_suspend, creator_unsuspend
from payouts.payout_services import payout_request
from tests.connect.factories import CreatorProfileFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/connect/creatorprofile/"


@pytest.fixture
def staff() -> User:
    return UserFactory(verified=True, is_staff=True, is_superuser=True)


@pytest.fixture
def creator() -> CreatorProfile:
    return CreatorProfileFactory()


# ---------------------------------------------------------------------------------------
# Services


def test_staff_suspend_a_creator_with_a_reason_and_a_period_opens(
    staff: User, creator: CreatorProfile
) -> None:
    # when
    suspended = creator_suspend(creator=creator, actor=staff, reason="  Self-purchases.  ")

    # then
    creator.refresh_from_db()
    assert creator.is_suspended
    assert suspended.suspended_at == creator.suspended_at
    period = CreatorSuspension.objects.get(creator=creator)
    assert period.started_at == creator.suspended_at
    assert period.ended_at is None
    assert period.reason == "Self-purchases."
    assert period.started_by == staff
    entry = AuditEntry.objects.get(action="connect.creator.suspended")
    assert entry.actor == staff
    assert (entry.target_type, entry.target_id) == ("connect.creatorprofile", str(creator.pk))
    assert entry.before == {"suspended_at": None}
    assert entry.after == {
        "suspended_at": period.started_at.isoformat(),
        "reason": "Self-purchases.",
        "suspension": period.pk,
    }


def test_suspending_twice_keeps_one_open_period_and_one_audit_entry(
    staff: User, creator: CreatorProfile
) -> None:
    # given
    first = creator_suspend(creator=creator, actor=staff, reason="Fraud review.")

    # when
    again = creator_suspend(creator=creator, actor=staff, reason="Clicked twice.")

    # then
    assert again.suspended_at == first.suspended_at
    assert list(CreatorSuspension.objects.values_list("reason", flat=True)) == ["Fraud review."]
    assert AuditEntry.objects.filter(action="connect.creator.suspended").count() == 1


@pytest.mark.parametrize("service", [creator_suspend, creator_unsuspend])
def test_only_staff_may_suspend_or_reinstate(creator: CreatorProfile, service: object) -> None:
    # given: the creator themself, and a brand-side user, neither staff
    if service is creator_unsuspend:
        creator_suspend(creator=creator, actor=UserFactory(is_staff=True), reason="Under review.")
    before = CreatorProfile.objects.get(pk=creator.pk).suspended_at

    # when / then
    for actor in (creator.user, UserFactory(verified=True)):
        with pytest.raises(PermissionDenied, match="Only staff can do this"):
            service(creator=creator, actor=actor, reason="Because.")  # type: ignore[operator]

    assert CreatorProfile.objects.get(pk=creator.pk).suspended_at == before
    assert not AuditEntry.objects.exclude(action="connect.creator.suspended").exists()


@pytest.mark.parametrize("service", [creator_suspend, creator_unsuspend])
def test_a_reason_is_required(staff: User, creator: CreatorProfile, service: object) -> None:
    # given
    if service is creator_unsuspend:
        creator_suspend(creator=creator, actor=staff, reason="Under review.")
    periods_before = list(CreatorSuspension.objects.values_list("pk", "ended_at"))

    # when
    with pytest.raises(ValidationError) as error:
        service(creator=creator, actor=staff, reason="   ")  # type: ignore[operator]

    # then
    assert error.value.message_dict == {"reason": ["Give a reason; it is kept in the audit log."]}
    assert list(CreatorSuspension.objects.values_list("pk", "ended_at")) == periods_before


def test_reinstating_closes_the_period_clears_the_flag_and_is_audited(
    staff: User, creator: CreatorProfile
) -> None:
    # given
    creator_suspend(creator=creator, actor=staff, reason="Fraud review.")
    suspended_at = CreatorProfile.objects.get(pk=creator.pk).suspended_at
    assert suspended_at is not None
    reviewer = UserFactory(verified=True, is_staff=True)

    # when
    creator_unsuspend(creator=creator, actor=reviewer, reason="Traffic is genuine.")

    # then
    creator.refresh_from_db()
    assert not creator.is_suspended
    period = CreatorSuspension.objects.get(creator=creator)
    assert period.ended_at is not None and period.ended_at > period.started_at
    assert (period.ended_by, period.end_reason) == (reviewer, "Traffic is genuine.")
    entry = AuditEntry.objects.get(action="connect.creator.unsuspended")
    assert entry.actor == reviewer
    assert entry.before == {"suspended_at": suspended_at.isoformat()}
    assert entry.after == {
        "suspended_at": None,
        "reason": "Traffic is genuine.",
        "periods_closed": 1,
    }


def test_reinstating_a_creator_who_is_not_suspended_changes_nothing(
    staff: User, creator: CreatorProfile
) -> None:
    # when
    result = creator_unsuspend(creator=creator, actor=staff, reason="Nothing to lift.")

    # then
    assert result.suspended_at is None
    assert not CreatorSuspension.objects.exists()
    assert not AuditEntry.objects.filter(action="connect.creator.unsuspended").exists()


def test_each_suspension_is_its_own_period(staff: User, creator: CreatorProfile) -> None:
    # when
    creator_suspend(creator=creator, actor=staff, reason="First.")
    creator_unsuspend(creator=creator, actor=staff, reason="Cleared.")
    creator_suspend(creator=creator, actor=staff, reason="Second.")

    # then
    periods = list(
        CreatorSuspension.objects.filter(creator=creator)
        .order_by("started_at")
        .values_list("reason", "end_reason")
    )
    assert periods == [("First.", "Cleared."), ("Second.", "")]
    assert CreatorSuspension.objects.filter(ended_at__isnull=True).count() == 1
    creator.refresh_from_db()
    assert creator.suspended_at == CreatorSuspension.objects.get(ended_at__isnull=True).started_at


def test_a_suspended_creator_cannot_request_a_payout_until_reinstated(
    staff: User, creator: CreatorProfile
) -> None:
    # given
    creator_suspend(creator=creator, actor=staff, reason="Fraud review.")

    # when / then
    with pytest.raises(ValidationError, match="suspended; payouts are on hold"):
        payout_request(creator=creator, currency="EUR", actor=creator.user)

    # (reinstated, the next check is the payout method, which this creator has not set up)
    creator_unsuspend(creator=creator, actor=staff, reason="Cleared.")
    with pytest.raises(ValidationError, match="Set up how you get paid first"):
        payout_request(creator=creator, currency="EUR", actor=creator.user)


# ---------------------------------------------------------------------------------------
# Admin


def test_staff_suspend_a_creator_through_the_admin_with_a_reason(
    client: Client, staff: User, creator: CreatorProfile
) -> None:
    # given
    client.force_login(staff)
    selection = {"action": "suspend_creators", "_selected_action": [creator.pk]}

    # when
    asked = client.post(CHANGELIST, selection)
    done = client.post(CHANGELIST, {**selection, "apply": "1", "reason": "Fake followers."})

    # then
    page = asked.content.decode()
    assert asked.status_code == 200
    assert "Suspend creators" in page
    assert f"@{creator.handle}" in page
    assert 'name="reason"' in page
    assert done.status_code == 302
    creator.refresh_from_db()
    assert creator.is_suspended
    assert CreatorSuspension.objects.get(creator=creator).reason == "Fake followers."
    entry = AuditEntry.objects.get(action="connect.creator.suspended")
    assert (entry.actor, entry.after["reason"]) == (staff, "Fake followers.")
    followed = client.get(done["Location"]).content.decode()
    assert "1 creator suspended; their payouts are held." in followed


def test_the_admin_asks_again_when_the_reason_is_missing(
    client: Client, staff: User, creator: CreatorProfile
) -> None:
    # given
    client.force_login(staff)

    # when
    response = client.post(
        CHANGELIST,
        {"action": "suspend_creators", "_selected_action": [creator.pk], "apply": "1"},
    )

    # then
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    creator.refresh_from_db()
    assert not creator.is_suspended
    assert not CreatorSuspension.objects.exists()


def test_staff_reinstate_a_creator_through_the_admin(
    client: Client, staff: User, creator: CreatorProfile
) -> None:
    # given
    creator_suspend(creator=creator, actor=staff, reason="Fraud review.")
    client.force_login(staff)
    selection = {"action": "unsuspend_creators", "_selected_action": [creator.pk]}

    # when
    asked = client.post(CHANGELIST, selection)
    done = client.post(CHANGELIST, {**selection, "apply": "1", "reason": "Cleared by review."})

    # then
    assert "Lift creator suspensions" in asked.content.decode()
    assert done.status_code == 302
    creator.refresh_from_db()
    assert not creator.is_suspended
    assert CreatorSuspension.objects.get(creator=creator).end_reason == "Cleared by review."
    change_page = client.get(f"{CHANGELIST}{creator.pk}/change/").content.decode()
    assert "Fraud review." in change_page
    assert "Cleared by review." in change_page


def test_the_suspended_filter_lists_only_suspended_creators(
    client: Client, staff: User, creator: CreatorProfile
) -> None:
    # given
    other = CreatorProfileFactory()
    creator_suspend(creator=creator, actor=staff, reason="Fraud review.")
    client.force_login(staff)

    # when
    response = client.get(CHANGELIST, {"suspended_at__isnull": "False"})

    # then
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [creator]
    assert other not in response.context["cl"].result_list
