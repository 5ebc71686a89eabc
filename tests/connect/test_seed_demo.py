"""`manage.py seed_demo`: `make run` calls it on every start, so it must be idempotent."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from django.core.management import call_command
from django.core.management.base import CommandError
from pytest_django.fixtures import Settings

from connect.management.commands.seed_demo import (
    ADMIN_EMAIL,
    DEMO_CREATORS,
    DEMO_PASSWORD,
)
from connect.models import AuditEntry, CreatorProfile, SocialAccount, User
from connect.services import creator_profile_create

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
        "users": 13,
        "staff": 1,
        "verified_primary_emails": 13,
        "profiles": 12,
        "social_accounts": 23,
        "audit_entries": 12,
    }
    assert _counts() == after_first_run
    assert "  creators: 12 (0 new)" in output
    assert "  staff admin: 1 (0 new)" in output


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
    assert [line.split()[0] for line in logins[:3]] == [
        "admin@demo.connect",
        "ola@demo.connect",
        "lucia@demo.connect",
    ]
    assert logins[3].strip() == "Password for all: connect-demo-2026"


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
