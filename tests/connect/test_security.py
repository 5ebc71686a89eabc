import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from tests.connect.factories import PASSWORD, UserFactory

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_SETTINGS_MODULE", "SECRET_KEY", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deploy_check() -> None:
    # when
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="connect.example.com",
    )

    # then
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key() -> None:
    # when
    result = _manage("check", DEBUG="false", ALLOWED_HOSTS="connect.example.com")

    # then
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is false." in result.stderr


def test_production_refuses_a_weak_secret_key() -> None:
    # when
    result = _manage(
        "check", DEBUG="false", SECRET_KEY="short", ALLOWED_HOSTS="connect.example.com"
    )

    # then
    assert result.returncode != 0
    assert "SECRET_KEY must be a random value of at least 50 characters" in result.stderr


@pytest.mark.django_db
def test_html_pages_carry_the_security_headers(client: Client) -> None:
    # when
    response = client.get("/accounts/login/")

    # then
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"


@pytest.mark.django_db
def test_pages_load_no_asset_from_another_host(client: Client) -> None:
    # when
    body = client.get("/").content.decode()

    # then
    assert "http://" not in body.replace("http://testserver", "")
    assert "https://" not in body
    assert "/static/vendor/bootstrap/css/bootstrap.min.css" in body


@pytest.mark.django_db
def test_repeated_failed_logins_lock_the_account_key_even_for_the_right_password(
    client: Client,
) -> None:
    # given
    user = UserFactory(email="ola@example.com", verified=True)
    for _ in range(5):
        client.post("/accounts/login/", {"login": user.email, "password": "wrong-password"})

    # when
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})

    # then
    assert "_auth_user_id" not in client.session
    assert "Too many failed login attempts" in response.content.decode()


@pytest.mark.django_db
def test_signup_is_rate_limited_per_ip(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    # given
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "signup": "3/m/ip"}
    statuses = []

    # when
    for n in range(4):
        response = client.post(
            "/accounts/signup/",
            {"email": f"new{n}@example.com", "password1": PASSWORD, "password2": PASSWORD},
        )
        statuses.append(response.status_code)
        client.logout()

    # then
    assert statuses == [302, 302, 302, 429]
    assert "Too many attempts" in response.content.decode()
