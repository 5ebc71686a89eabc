import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from connect.models import CreatorProfile, User
from tests.conftest import make_image_bytes
from tests.connect.factories import (
    PASSWORD,
    CreatorProfileFactory,
    SocialAccountFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _onboarding_data(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "handle": "ola_creates",
        "display_name": "Ola Kowalska",
        "bio": "Slow fashion.",
        "country": "PL",
        "languages": ["pl", "en"],
        "niches": ["fashion", "beauty"],
        "social-TOTAL_FORMS": "2",
        "social-INITIAL_FORMS": "0",
        "social-MIN_NUM_FORMS": "0",
        "social-MAX_NUM_FORMS": "12",
        "social-0-platform": "instagram",
        "social-0-handle_or_url": "@ola.creates",
        "social-0-follower_count": "12500",
        "social-1-platform": "",
        "social-1-handle_or_url": "",
        "social-1-follower_count": "",
    }
    data.update(overrides)
    return data


def test_signup_sends_a_verification_link_that_verifies_and_leads_to_onboarding(
    client: Client,
) -> None:
    # given
    response = client.post(
        "/accounts/signup/",
        {"email": "Ola@Example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    user = User.objects.get()
    assert user.email == "ola@example.com"
    assert not EmailAddress.objects.get(user=user).verified

    # when
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/accounts/confirm-email/\S+/)", mail.outbox[0].body).group(
        1
    )
    response = client.get(link)

    # then
    assert response.status_code == 302
    assert response["Location"] == "/onboarding/"
    assert EmailAddress.objects.get(user=user).verified


def test_unverified_user_cannot_open_onboarding_and_is_told_to_verify(client: Client) -> None:
    # given
    user = UserFactory(verified=False)
    EmailAddress.objects.create(user=user, email=user.email, verified=False, primary=True)
    client.force_login(user)

    # when
    response = client.get("/onboarding/")

    # then: allauth's page, and a fresh verification email
    assert response.status_code == 200
    assert "account/verified_email_required.html" in [t.name for t in response.templates]
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [user.email]


def test_unverified_user_posting_onboarding_creates_nothing(client: Client) -> None:
    # given
    user = UserFactory(verified=False)
    client.force_login(user)

    # when
    client.post("/onboarding/", _onboarding_data())

    # then
    assert CreatorProfile.objects.count() == 0


def test_unverified_user_cannot_open_a_creator_only_page(client: Client) -> None:
    # given: a creator whose email is not verified (e.g. changed it since)
    profile = CreatorProfileFactory()
    EmailAddress.objects.filter(user=profile.user).update(verified=False)
    client.force_login(profile.user)

    # when
    response = client.get("/profile/edit/")

    # then
    assert "account/verified_email_required.html" in [t.name for t in response.templates]


def test_onboarding_creates_the_profile_and_redirects_to_it(client: Client) -> None:
    # given
    user = UserFactory(verified=True)
    client.force_login(user)
    avatar = SimpleUploadedFile("me.jpg", make_image_bytes("JPEG"), content_type="image/jpeg")

    # when
    response = client.post("/onboarding/", _onboarding_data(avatar=avatar))

    # then
    assert response.status_code == 302
    assert response["Location"] == "/@ola_creates"
    profile = CreatorProfile.objects.get(user=user)
    assert profile.max_followers == 12500
    assert profile.avatar.name.endswith(".webp")
    page = client.get("/@ola_creates")
    assert page.status_code == 200
    assert "Ola Kowalska" in page.content.decode()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"handle": "no spaces"},
            "handle",
            "Use 3 to 30 characters: letters, digits and underscores only.",
        ),
        ({"handle": "admin"}, "handle", "This handle is reserved. Please choose another."),
        ({"display_name": ""}, "display_name", "This field is required."),
        (
            {"country": "XX"},
            "country",
            "Select a valid choice. XX is not one of the available choices.",
        ),
        (
            {"social-0-handle_or_url": "https://www.facebook.com/ola"},
            None,
            "This is not a Instagram profile URL.",
        ),
        (
            {"social-0-follower_count": "-5"},
            None,
            "Ensure this value is greater than or equal to 0.",
        ),
        ({"social-0-follower_count": ""}, None, "Enter the follower count."),
    ],
)
def test_onboarding_shows_each_validation_error_and_creates_nothing(
    client: Client, overrides: dict[str, object], field: str | None, message: str
) -> None:
    # given
    client.force_login(UserFactory(verified=True))

    # when
    response = client.post("/onboarding/", _onboarding_data(**overrides))

    # then
    assert response.status_code == 200
    if field:
        assert response.context["form"].errors[field] == [message]
    else:
        assert message in response.content.decode().replace("&quot;", '"')
    assert CreatorProfile.objects.count() == 0


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (
            SimpleUploadedFile(
                "avatar.png", b"just some text, not a picture", content_type="image/png"
            ),
            "This file is not a valid image. Upload a JPEG, PNG or WebP picture.",
        ),
        (
            SimpleUploadedFile(
                "huge.png", b"\x89PNG" + b"0" * (5 * 1024 * 1024 + 1), content_type="image/png"
            ),
            "The image is larger than 5 MB.",
        ),
    ],
)
def test_onboarding_refuses_a_fake_or_oversized_avatar(
    client: Client, upload: SimpleUploadedFile, message: str
) -> None:
    # given
    client.force_login(UserFactory(verified=True))

    # when
    response = client.post("/onboarding/", _onboarding_data(avatar=upload))

    # then
    assert response.status_code == 200
    assert response.context["form"].errors["avatar"] == [message]
    assert CreatorProfile.objects.count() == 0


def test_onboarding_refuses_a_handle_taken_in_another_case(client: Client) -> None:
    # given
    CreatorProfileFactory(handle="Ola_Creates")
    client.force_login(UserFactory(verified=True))

    # when
    response = client.post("/onboarding/", _onboarding_data(handle="ola_creates"))

    # then
    assert response.context["form"].errors["handle"] == ["This handle is already taken."]


def test_profile_edit_changes_the_profile(client: Client) -> None:
    # given
    profile = CreatorProfileFactory(handle="ola_creates", display_name="Ola")
    client.force_login(profile.user)
    form_page = client.get("/profile/edit/")
    assert form_page.context["form"].initial["handle"] == "ola_creates"

    # when
    response = client.post("/profile/edit/", _onboarding_data(display_name="Ola K.", bio="New bio"))

    # then
    assert response.status_code == 302
    profile.refresh_from_db()
    assert (profile.display_name, profile.bio) == ("Ola K.", "New bio")


def test_creator_without_profile_is_sent_from_edit_to_onboarding(client: Client) -> None:
    # given
    client.force_login(UserFactory(verified=True))

    # when
    response = client.get("/profile/edit/")

    # then
    assert response.status_code == 302
    assert response["Location"] == "/onboarding/"


def test_public_profile_shows_niches_and_social_accounts_and_redirects_other_case(
    client: Client,
) -> None:
    # given
    profile = CreatorProfileFactory(handle="Maria_ES", display_name="María")
    SocialAccountFactory(profile=profile, handle="maria.es", follower_count=48200)

    # when
    canonical = client.get("/@Maria_ES")
    other_case = client.get("/@maria_es")

    # then
    body = canonical.content.decode()
    assert "María" in body
    assert "48.2K followers" in body
    assert "https://www.instagram.com/maria.es/" in body
    assert other_case.status_code == 301
    assert other_case["Location"] == "/@Maria_ES"


def test_unknown_profile_is_a_friendly_404(client: Client) -> None:
    # when
    response = client.get("/@nobody_here")

    # then
    assert response.status_code == 404
    assert "We couldn’t find this page" in response.content.decode()


def test_inactive_users_profile_is_hidden(client: Client) -> None:
    # given
    profile = CreatorProfileFactory(handle="gone_user")
    User.objects.filter(pk=profile.user_id).update(is_active=False)

    # when
    response = client.get("/@gone_user")

    # then
    assert response.status_code == 404


def test_directory_requires_sign_in_and_staff(client: Client) -> None:
    # given
    creator = CreatorProfileFactory()

    # when
    anonymous = client.get("/creators/")
    client.force_login(creator.user)
    as_creator = client.get("/creators/")

    # then
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/")
    assert as_creator.status_code == 403
    assert "You can’t open this page" in as_creator.content.decode()


def test_directory_searches_filters_and_sorts(client: Client) -> None:
    # given
    staff = UserFactory(is_staff=True)
    ola = CreatorProfileFactory(
        handle="ola_creates", display_name="Ola Kowalska", country="PL", max_followers=12000
    )
    CreatorProfileFactory(
        handle="kowal_gaming", display_name="Piotr", country="PL", max_followers=90000
    )
    CreatorProfileFactory(
        handle="maria_es", display_name="María", country="ES", max_followers=50000
    )
    ola.niches.add(*ola.niches.model.objects.filter(slug="fashion"))
    client.force_login(staff)

    # when
    by_text = client.get("/creators/", {"q": "kowal"})
    by_country = client.get("/creators/", {"country": "ES"})
    by_niche = client.get("/creators/", {"niche": "fashion"})
    by_range = client.get("/creators/", {"followers_min": 20000, "followers_max": 60000})
    by_name = client.get("/creators/", {"sort": "name"})

    # then
    def handles(response):  # type: ignore[no-untyped-def]
        return [p.handle for p in response.context["page"].object_list]

    assert handles(by_text) == ["kowal_gaming", "ola_creates"]
    assert handles(by_country) == ["maria_es"]
    assert handles(by_niche) == ["ola_creates"]
    assert handles(by_range) == ["maria_es"]
    assert handles(by_name) == ["maria_es", "ola_creates", "kowal_gaming"]


def test_home_for_a_new_user_shows_the_next_steps(client: Client) -> None:
    # given
    client.force_login(UserFactory(verified=False))

    # when
    response = client.get("/")

    # then
    body = response.content.decode()
    assert "Verify your email address" in body
    assert "Send the link again" in body


def test_directory_refuses_searches_shorter_than_three_characters(client: Client) -> None:
    # given
    client.force_login(UserFactory(is_staff=True))

    # when
    response = client.get("/creators/", {"q": "ko"})

    # then
    assert response.context["form"].errors["q"] == [
        "Ensure this value has at least 3 characters (it has 2)."
    ]


def test_directory_hides_inactive_creators(client: Client) -> None:
    # given
    CreatorProfileFactory(handle="still_here")
    gone = CreatorProfileFactory(handle="gone_away")
    User.objects.filter(pk=gone.user_id).update(is_active=False)
    client.force_login(UserFactory(is_staff=True))

    # when
    response = client.get("/creators/")

    # then
    assert [p.handle for p in response.context["page"].object_list] == ["still_here"]


def test_capped_paginator_counts_up_to_the_cap_and_says_so() -> None:
    # given
    for n in range(7):
        CreatorProfileFactory(handle=f"capped_{n}")
    from connect.pagination import CappedPaginator

    # when
    capped = CappedPaginator(CreatorProfile.objects.order_by("id"), 2, cap=4)
    exact = CappedPaginator(CreatorProfile.objects.order_by("id"), 2, cap=10)
    deep = CappedPaginator(CreatorProfile.objects.order_by("id"), 2, requested_page=3, cap=4)

    # then
    assert (capped.count, capped.capped, capped.num_pages) == (4, True, 2)
    assert (exact.count, exact.capped, exact.num_pages) == (7, False, 4)
    assert (deep.count, deep.capped) == (7, False)
    assert [p.handle for p in deep.page(3).object_list] == ["capped_4", "capped_5"]


def test_home_shows_a_creators_collaboration_counts(client: Client) -> None:
    # given
    from tests.campaigns.factories import CollaborationFactory

    profile = CreatorProfileFactory()
    CollaborationFactory(creator=profile)
    CollaborationFactory(
        creator=profile, status="invited", tracking_code=None, discount_code=None, activated_at=None
    )
    client.force_login(profile.user)

    # when
    response = client.get("/")

    # then
    assert response.context["collaboration_counts"] == {"active": 1, "invited": 1, "applied": 0}


def test_home_sends_a_brand_only_user_to_the_brand_workspace(client: Client) -> None:
    # given
    from tests.campaigns.factories import BrandMembershipFactory

    membership = BrandMembershipFactory()
    client.force_login(membership.user)

    # when
    response = client.get("/")

    # then
    assert response.status_code == 302
    assert response["Location"] == "/brand/"
