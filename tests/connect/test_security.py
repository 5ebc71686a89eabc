"""Production hardening: the deploy check, the security headers and cookies of the production
server on its HTML pages, no inline code in those pages, and the account rate limits."""

import os
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from html.parser import HTMLParser
from http.cookies import Morsel, SimpleCookie
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.test import Client

from connect.models import User
from tests.campaigns.factories import BrandFactory
from tests.connect.factories import PASSWORD, CreatorProfileFactory, UserFactory
from tests.payouts.workers import process_env, web_server

ROOT = Path(__file__).resolve().parents[2]
ONE_YEAR = 365 * 24 * 3600


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


# ---------------------------------------------------------------------------------------
# The production server: gunicorn on the production settings, behind an HTTPS proxy


def _production_env(**extra: str) -> dict[str, str]:
    return {
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "127.0.0.1",
        **extra,
    }


@pytest.fixture(scope="session")
def collected_static(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`collectstatic` as a deploy runs it: production serves the hashed, compressed files."""
    static_root = tmp_path_factory.mktemp("staticfiles")
    result = _manage(
        "collectstatic", "--noinput", "-v", "0", **_production_env(STATIC_ROOT=str(static_root))
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return static_root


@pytest.fixture
def production_server(
    transactional_db: None, collected_static: Path, tmp_path: Path
) -> Iterator[str]:
    env = process_env(
        DJANGO_SETTINGS_MODULE="config.settings",
        REDIS_URL=settings.TEST_REDIS_URL,
        STATIC_ROOT=str(collected_static),
        MEDIA_ROOT=str(tmp_path / "media"),
        **_production_env(),
    )
    with web_server(env) as base:
        yield base


def _get(
    base: str,
    path: str,
    *,
    https: bool = True,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    data: dict[str, str] | None = None,
) -> requests.Response:
    """A request as the HTTPS proxy in front of the server passes it on."""
    sent = {**(headers or {}), **({"X-Forwarded-Proto": "https"} if https else {})}
    return requests.request(
        method, base + path, headers=sent, data=data, allow_redirects=False, timeout=30
    )


def _set_cookies(response: requests.Response) -> dict[str, Morsel[str]]:
    cookies: SimpleCookie = SimpleCookie()
    for header in response.raw.headers.getlist("Set-Cookie"):
        cookies.load(header)
    return dict(cookies)


def _cookie_header(cookies: dict[str, Morsel[str]]) -> str:
    return "; ".join(f"{name}={morsel.value}" for name, morsel in cookies.items())


def _csp(response: requests.Response) -> dict[str, list[str]]:
    directives = {}
    for part in response.headers["Content-Security-Policy"].split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


class _InlineCode(HTMLParser):
    """What in a page would need 'unsafe-inline': scripts and styles written into the page,
    event handler attributes and javascript: URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "script" and not attributes.get("src"):
            self.found.append("<script> without src")
        if tag == "style":
            self.found.append("<style> element")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=…>")
            if name == "style":
                self.found.append(f"<{tag} style=…>")
            if (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}=javascript:…>")


def _inline_code(html: str) -> list[str]:
    parser = _InlineCode()
    parser.feed(html)
    parser.close()
    return parser.found


def _assert_security_headers(response: requests.Response) -> None:
    csp = _csp(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    hsts = [part.strip() for part in response.headers["Strict-Transport-Security"].split(";")]
    max_age = int(next(part for part in hsts if part.startswith("max-age=")).split("=")[1])
    assert max_age >= ONE_YEAR
    assert "includeSubDomains" in hsts


def _production_password(user: User) -> None:
    """The test settings hash passwords with MD5 for speed; production knows only its own
    hashers, so the user's password is stored the way production stores it."""
    hasher = PBKDF2PasswordHasher()
    user.password = hasher.encode(PASSWORD, hasher.salt())
    user.save(update_fields=["password"])


def _sign_in(base: str, user: User) -> tuple[requests.Response, dict[str, Morsel[str]]]:
    """Sign in through the login form; the login response and the cookies it set."""
    _production_password(user)
    page = _get(base, "/accounts/login/")
    form_cookies = _set_cookies(page)
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert match is not None
    response = _get(
        base,
        "/accounts/login/",
        method="POST",
        data={"login": user.email, "password": PASSWORD, "csrfmiddlewaretoken": match.group(1)},
        headers={
            "Cookie": _cookie_header(form_cookies),
            "Origin": "https://" + base.removeprefix("http://"),
        },
    )
    assert response.status_code == 302, response.text
    return response, {**form_cookies, **_set_cookies(response)}


def test_the_production_servers_html_pages_carry_the_security_headers_and_no_inline_code(
    production_server: str,
) -> None:
    # given a creator, a brand and a staff member
    creator = CreatorProfileFactory(handle="ola")
    brand = BrandFactory(slug="trail-co")
    staff = UserFactory(email="staff@example.com", is_staff=True, verified=True)
    _login, cookies = _sign_in(production_server, staff)
    signed_in = {"Cookie": _cookie_header(cookies)}

    # when
    pages = {
        path: _get(production_server, path)
        for path in ("/", "/accounts/login/", "/accounts/signup/", f"/@{creator.handle}")
    }
    pages[f"/brands/{brand.slug}/"] = _get(production_server, f"/brands/{brand.slug}/")
    pages["/ (signed in)"] = _get(production_server, "/", headers=signed_in)
    pages["/staff/"] = _get(production_server, "/staff/", headers=signed_in)

    # then
    for path, response in pages.items():
        assert response.status_code == 200, (path, response.status_code)
        assert response.headers["Content-Type"] == "text/html; charset=utf-8", path
        _assert_security_headers(response)
        assert _inline_code(response.text) == [], path
    assert creator.display_name in pages[f"/@{creator.handle}"].text
    assert brand.name in pages[f"/brands/{brand.slug}/"].text
    assert "Platform overview" in pages["/staff/"].text


def test_the_production_servers_login_sets_secure_http_only_cookies(
    production_server: str,
) -> None:
    # given
    user = UserFactory(email="ola@example.com", verified=True)

    # when
    response, _cookies = _sign_in(production_server, user)

    # then: the session and the rotated CSRF token, neither readable by script nor sent
    # over plain HTTP
    cookies = _set_cookies(response)
    assert {"sessionid", "csrftoken"} <= set(cookies)
    for name, morsel in cookies.items():
        assert morsel["secure"] is True, name
        assert morsel["httponly"] is True, name
        assert morsel["samesite"] == "Lax", name
    _assert_security_headers(response)


def test_the_production_server_sends_plain_http_to_https_and_serves_the_favicon(
    production_server: str,
) -> None:
    # when
    plain = _get(production_server, "/accounts/login/", https=False)
    favicon = _get(production_server, "/favicon.ico")
    icon = _get(production_server, favicon.headers["Location"])

    # then
    assert plain.status_code == 301
    assert plain.headers["Location"] == (
        "https://" + production_server.removeprefix("http://") + "/accounts/login/"
    )
    assert favicon.status_code == 302
    assert re.fullmatch(r"/static/img/favicon\.[0-9a-f]{12}\.svg", favicon.headers["Location"])
    assert icon.status_code == 200
    assert icon.headers["Content-Type"] == "image/svg+xml"
    assert icon.content.startswith(b"<svg")


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
