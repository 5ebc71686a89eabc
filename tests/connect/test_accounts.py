"""Password reset, two-factor sign-in and error pages, through allauth's real views."""

import re
import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.core import mail
from django.test import Client, RequestFactory
from django.views.defaults import server_error

from connect.models import User
from tests.connect.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def _totp(secret: str, offset: int = 0) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30 + offset))


def test_password_reset_emails_a_link_that_sets_a_new_password(client: Client) -> None:
    # given
    user = UserFactory(email="ola@example.com", verified=True)

    # when
    client.post("/accounts/password/reset/", {"email": "OLA@example.com"})
    link = re.search(
        r"http://testserver(/accounts/password/reset/key/\S+/)", mail.outbox[0].body
    ).group(1)
    form_page = client.get(link, follow=True)
    response = client.post(
        form_page.redirect_chain[-1][0] if form_page.redirect_chain else link,
        {"password1": "N3w-and-long-enough!", "password2": "N3w-and-long-enough!"},
    )

    # then
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("N3w-and-long-enough!")
    assert not user.check_password(PASSWORD)


def test_totp_two_factor_is_activated_and_then_required_at_sign_in(
    client: Client, settings
) -> None:  # type: ignore[no-untyped-def]
    # given: a signed-in user turns on TOTP with a code from their authenticator app
    settings.MFA_TOTP_TOLERANCE = 1
    user = UserFactory(email="ola@example.com", verified=True)
    client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    # allauth asks for the password again before a security change
    client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    secret = client.get("/accounts/2fa/totp/activate/").context["form"].secret
    activate = client.post("/accounts/2fa/totp/activate/", {"code": _totp(secret, -1)})
    assert activate.status_code == 302
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    client.post("/accounts/logout/")

    # when: they sign in again with the password only
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})

    # then: a code is asked for, a wrong one is refused and the right one signs them in
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert "_auth_user_id" not in client.session
    wrong = client.post("/accounts/2fa/authenticate/", {"code": "000000"})
    assert "_auth_user_id" not in client.session
    assert wrong.status_code == 200
    client.post("/accounts/2fa/authenticate/", {"code": _totp(secret, 0)})
    assert client.session["_auth_user_id"] == str(user.pk)


def test_signup_refuses_an_email_already_used_in_another_case(client: Client) -> None:
    # given
    UserFactory(email="ola@example.com")

    # when
    response = client.post(
        "/accounts/signup/",
        {"email": "Ola@Example.COM", "password1": PASSWORD, "password2": PASSWORD},
    )

    # then
    assert response.status_code == 200
    assert User.objects.count() == 1
    assert "A user is already registered with this email address." in response.content.decode()


def test_server_error_page_is_ours() -> None:
    # when
    response = server_error(RequestFactory().get("/"))

    # then
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()
