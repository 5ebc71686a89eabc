import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from connect.models import AuditEntry, CreatorProfile, Niche, SocialAccount
from connect.services import SocialAccountInput, creator_profile_create, creator_profile_update
from tests.connect.factories import CreatorProfileFactory, UserFactory

pytestmark = pytest.mark.django_db


def _create(user, **overrides):  # type: ignore[no-untyped-def]
    fields = {"handle": "ola_creates", "display_name": "Ola", "country": "PL"}
    fields.update(overrides)
    return creator_profile_create(user=user, **fields)


def test_creator_profile_create_stores_the_profile_with_its_social_accounts_and_rollup(
    png_upload,
) -> None:  # type: ignore[no-untyped-def]
    # given
    user = UserFactory(verified=True)
    fashion = Niche.objects.get(slug="fashion")

    # when
    profile = _create(
        user,
        bio="  Slow fashion from Kraków.  ",
        languages=["pl", "en", "pl"],
        niches=[fashion],
        avatar=png_upload,
        social_accounts=[
            SocialAccountInput("instagram", "@ola.creates", 12500),
            SocialAccountInput("tiktok", "https://www.tiktok.com/@ola.creates", 48000),
        ],
    )

    # then
    profile.refresh_from_db()
    assert profile.handle == "ola_creates"
    assert profile.bio == "Slow fashion from Kraków."
    assert profile.languages == ["pl", "en"]
    assert list(profile.niches.values_list("slug", flat=True)) == ["fashion"]
    assert profile.max_followers == 48000
    assert profile.avatar.name.startswith("avatars/") and profile.avatar.name.endswith(".webp")
    assert sorted(
        SocialAccount.objects.filter(profile=profile).values_list(
            "platform", "handle", "follower_count"
        )
    ) == [
        ("instagram", "ola.creates", 12500),
        ("tiktok", "ola.creates", 48000),
    ]
    entry = AuditEntry.objects.get(action="connect.creator_profile.created")
    assert entry.actor == user
    assert entry.target_id == str(profile.pk)
    assert entry.after["handle"] == "ola_creates"


def test_creator_profile_create_refuses_an_unverified_email() -> None:
    # given
    user = UserFactory(verified=False)

    # when
    with pytest.raises(PermissionDenied):
        _create(user)

    # then
    assert CreatorProfile.objects.count() == 0


def test_creator_profile_create_refuses_a_handle_taken_in_another_letter_case() -> None:
    # given
    CreatorProfileFactory(handle="Ola_Creates")
    user = UserFactory(verified=True)

    # when
    with pytest.raises(ValidationError) as exc:
        _create(user, handle="ola_CREATES")

    # then
    assert exc.value.message_dict == {"handle": ["This handle is already taken."]}
    assert CreatorProfile.objects.filter(user=user).count() == 0


def test_database_refuses_a_case_variant_handle_even_past_the_service() -> None:
    # given
    CreatorProfileFactory(handle="maria_es")

    # when / then: the race between two signups ends at the unique index
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        CreatorProfileFactory(handle="MARIA_ES")


def test_creator_profile_create_twice_for_the_same_user_is_refused() -> None:
    # given
    user = UserFactory(verified=True)
    _create(user)

    # when
    with pytest.raises(ValidationError) as exc:
        _create(user, handle="other_handle")

    # then
    assert exc.value.messages == ["You already have a creator profile."]
    assert CreatorProfile.objects.filter(user=user).count() == 1


def test_creator_profile_create_rolls_back_everything_on_a_bad_social_account() -> None:
    # given
    user = UserFactory(verified=True)

    # when
    with pytest.raises(ValidationError) as exc:
        _create(user, social_accounts=[SocialAccountInput("instagram", "https://x.com/ola", 10)])

    # then
    assert exc.value.messages == ["This is not a Instagram profile URL."]
    assert CreatorProfile.objects.count() == 0
    assert AuditEntry.objects.count() == 0


def test_creator_profile_update_replaces_fields_avatar_and_accounts_and_audits(
    png_upload, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    # given
    user = UserFactory(verified=True)
    profile = _create(
        user, avatar=png_upload, social_accounts=[SocialAccountInput("x", "ola_pl", 900)]
    )
    old_avatar = profile.avatar.name
    storage = profile.avatar.storage

    # when
    with django_capture_on_commit_callbacks(execute=True):
        updated = creator_profile_update(
            profile=profile,
            actor=user,
            handle="Ola_Creates",
            display_name="Ola K.",
            country="ES",
            remove_avatar=True,
            social_accounts=[SocialAccountInput("youtube", "@KuchniaOli", 250000)],
        )

    # then: the old file is deleted once the change is committed
    updated.refresh_from_db()
    assert (updated.handle, updated.display_name, str(updated.country)) == (
        "Ola_Creates",
        "Ola K.",
        "ES",
    )
    assert not updated.avatar
    assert not storage.exists(old_avatar)
    assert updated.max_followers == 250000
    assert list(updated.social_accounts.values_list("platform", flat=True)) == ["youtube"]
    entry = AuditEntry.objects.get(action="connect.creator_profile.updated")
    assert entry.before["display_name"] == "Ola" and entry.after["display_name"] == "Ola K."


def test_creator_profile_update_with_nothing_changed_writes_no_audit_entry() -> None:
    # given
    user = UserFactory(verified=True)
    profile = _create(user)

    # when: the same form submitted twice (a double click)
    for _ in range(2):
        creator_profile_update(
            profile=profile, actor=user, handle="ola_creates", display_name="Ola", country="PL"
        )

    # then
    assert AuditEntry.objects.filter(action="connect.creator_profile.updated").count() == 0


def test_creator_profile_update_by_another_user_is_refused() -> None:
    # given
    profile = CreatorProfileFactory(display_name="Maria")
    intruder = UserFactory(verified=True)

    # when
    with pytest.raises(PermissionDenied):
        creator_profile_update(
            profile=profile,
            actor=intruder,
            handle=profile.handle,
            display_name="Hacked",
            country="PL",
        )

    # then
    profile.refresh_from_db()
    assert profile.display_name == "Maria"
