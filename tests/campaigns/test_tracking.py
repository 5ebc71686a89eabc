"""The tracking redirect /r/<code> against the real Redis and PostgreSQL."""

from __future__ import annotations

import hashlib
import hmac
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from campaigns import tracking
from campaigns.clicks import (
    PENDING_KEY,
    ClickRecord,
    click_buffer,
    click_buffer_flush,
    click_id_time,
    click_resolve,
)
from campaigns.models import Click, ClickDailyCount, Collaboration, CollaborationStatus
from campaigns.services.campaigns import campaign_pause
from campaigns.tracking import tracking_cache_entry_key, tracking_target_build
from campaigns.tracking_cache import tracking_cache_forget
from tests.campaigns.factories import BrandFactory, BrandMembershipFactory, CollaborationFactory

pytestmark = pytest.mark.django_db

LANDING_URL = "https://shop.example.com/spring?utm_source=connect&lang=pl#sizes"
BROWSER = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)


@pytest.fixture
def collaboration() -> Collaboration:
    return CollaborationFactory(campaign__landing_url=LANDING_URL)


def visit(client: Client, code: str, user_agent: str | None = BROWSER, **extra: Any) -> Any:
    headers = {} if user_agent is None else {"HTTP_USER_AGENT": user_agent}
    return client.get(f"/r/{code}", **headers, **extra)


def click_id_of(location: str, landing_prefix: str, fragment: str = "") -> uuid.UUID:
    """The click id in a redirect that must be exactly landing_prefix + id + fragment."""
    assert location.startswith(landing_prefix), location
    assert location.endswith(fragment), location
    return uuid.UUID(location[len(landing_prefix) : len(location) - len(fragment)])


def click_id_in(location: str) -> uuid.UUID:
    return uuid.UUID(parse_qs(urlsplit(location).query)["click_id"][0])


def pending() -> list[ClickRecord]:
    return [ClickRecord.decode(raw) for raw in click_buffer().lrange(PENDING_KEY, 0, -1)]


def test_redirect_keeps_the_landing_query_and_fragment_and_adds_a_click_id(
    client: Client, collaboration: Collaboration
) -> None:
    # given: a landing URL with its own parameters and a fragment

    # when
    response = visit(client, collaboration.tracking_code)

    # then
    assert response.status_code == 302
    click_id = click_id_of(
        response["Location"],
        "https://shop.example.com/spring?utm_source=connect&lang=pl&click_id=",
        "#sizes",
    )
    assert click_id.version == 7
    assert response["Cache-Control"] == "no-store"
    assert [record.click_id for record in pending()] == [click_id]


def test_the_tracking_url_is_named_for_the_other_pages() -> None:
    assert reverse("tracking:redirect", kwargs={"code": "abc123"}) == "/r/abc123"


def test_click_ids_are_unique_and_unguessable(client: Client, collaboration: Collaboration) -> None:
    # when
    ids = [click_id_in(visit(client, collaboration.tracking_code)["Location"]) for _ in range(3)]

    # then: 74 random bits each, so no two alike and no sequence
    assert len({click_id.int & ((1 << 62) - 1) for click_id in ids}) == 3


def test_the_click_id_resolves_to_the_collaboration_and_time_after_the_flush(
    client: Client, collaboration: Collaboration
) -> None:
    # given
    before = timezone.now()
    response = visit(client, collaboration.tracking_code)
    after = timezone.now()
    click_id = click_id_of(
        response["Location"],
        "https://shop.example.com/spring?utm_source=connect&lang=pl&click_id=",
        "#sizes",
    )
    assert click_resolve(click_id) is None  # still in Redis

    # when
    stored = click_buffer_flush()

    # then
    assert stored == 1
    resolved = click_resolve(str(click_id))
    assert resolved == (collaboration.pk, click_id_time(click_id))
    assert before - timedelta(milliseconds=1) <= resolved[1] <= after


def test_a_landing_url_without_query_gets_a_question_mark() -> None:
    target = tracking_target_build(landing_url="https://shop.example.com/", collaboration_id=7)
    assert target.click_url(uuid.UUID(int=1)) == (
        "https://shop.example.com/?click_id=00000000-0000-0000-0000-000000000001"
    )


def test_a_click_id_already_in_the_landing_url_is_replaced_and_the_rest_kept() -> None:
    target = tracking_target_build(
        landing_url="https://shop.example.com/p?a=1&click_id=old&b=x%20y#top", collaboration_id=7
    )
    assert target.click_url(uuid.UUID(int=1)) == (
        "https://shop.example.com/p?a=1&b=x+y&click_id=00000000-0000-0000-0000-000000000001#top"
    )


def test_an_unknown_code_gets_the_friendly_404_page(client: Client) -> None:
    # when
    response = visit(client, "nosuchcode")

    # then
    assert response.status_code == 404
    assert response.templates[0].name == "campaigns/tracking_404.html"
    assert "This link doesn’t lead anywhere" in response.content.decode()
    assert pending() == []


def test_an_unknown_code_is_cached_briefly_so_scanners_do_not_reach_the_database(
    client: Client,
) -> None:
    # given
    visit(client, "nosuchcode")

    # when
    with CaptureQueriesContext(connection) as queries:
        response = visit(client, "nosuchcode")

    # then
    assert response.status_code == 404
    assert [q["sql"] for q in queries.captured_queries if "campaigns_" in q["sql"]] == []
    assert click_buffer().get(tracking_cache_entry_key("nosuchcode")) == b""


def test_a_malformed_code_is_a_404_without_any_lookup(client: Client) -> None:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/r/" + "x" * 40, HTTP_USER_AGENT=BROWSER)
    assert response.status_code == 404
    assert [q["sql"] for q in queries.captured_queries if "campaigns_" in q["sql"]] == []


def test_a_removed_collaboration_redirects_without_click_id_and_counts_nothing(
    client: Client,
    collaboration: Collaboration,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    # given: the code was cached while active, then the collaboration is removed
    visit(client, collaboration.tracking_code)
    click_buffer().delete(PENDING_KEY)
    with django_capture_on_commit_callbacks(execute=True):
        Collaboration.objects.filter(pk=collaboration.pk).update(
            status=CollaborationStatus.REMOVED, removed_at=timezone.now()
        )
        tracking_cache_forget(tracking_codes=[collaboration.tracking_code])

    # when
    response = visit(client, collaboration.tracking_code)

    # then
    assert response.status_code == 302
    assert response["Location"] == LANDING_URL
    assert pending() == []
    assert click_buffer_flush() == 0
    assert Click.objects.count() == 0


def test_a_paused_campaign_redirects_without_click_id_and_counts_nothing(
    client: Client,
    collaboration: Collaboration,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    # given: a warm cache, then the brand pauses the campaign through its service
    visit(client, collaboration.tracking_code)
    click_buffer().delete(PENDING_KEY)
    owner = BrandMembershipFactory(brand=collaboration.brand).user
    with django_capture_on_commit_callbacks(execute=True):
        campaign_pause(campaign=collaboration.campaign, actor=owner)

    # when
    response = visit(client, collaboration.tracking_code)

    # then
    assert response.status_code == 302
    assert response["Location"] == LANDING_URL
    assert pending() == []


def test_a_suspended_brand_counts_nothing(client: Client) -> None:
    # given
    collaboration = CollaborationFactory(
        campaign__landing_url=LANDING_URL,
        campaign__brand=BrandFactory(suspended_at=timezone.now()),
    )

    # when
    response = visit(client, collaboration.tracking_code)

    # then
    assert response["Location"] == LANDING_URL
    assert pending() == []


@pytest.mark.parametrize(
    "user_agent",
    [
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
        "WhatsApp/2.23.20.0",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Twitterbot/1.0",
        "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
        "TelegramBot (like TwitterBot)",
        "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
        "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
        "Mozilla/5.0 (compatible; SomeNewCrawler/0.1)",
        "curl/8.4.0",
        "python-requests/2.31.0",
        "",
    ],
)
def test_bots_and_link_previewers_are_redirected_but_not_counted(
    client: Client, collaboration: Collaboration, user_agent: str
) -> None:
    # when
    response = visit(client, collaboration.tracking_code, user_agent=user_agent)

    # then
    assert response.status_code == 302
    assert response["Location"] == LANDING_URL
    assert pending() == []


@pytest.mark.parametrize(
    "user_agent",
    [
        BROWSER,
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Mobile/15E148 Instagram 321.0.2.19.107",
        "Mozilla/5.0 (Linux; Android 13; CUBOT KINGKONG 9) AppleWebKit/537.36 (KHTML, like "
        "Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
    ],
)
def test_people_in_browsers_and_in_app_browsers_are_counted(
    client: Client, collaboration: Collaboration, user_agent: str
) -> None:
    response = visit(client, collaboration.tracking_code, user_agent=user_agent)
    assert "click_id=" in response["Location"]
    assert [record.user_agent for record in pending()] == [user_agent]


def test_a_head_request_is_redirected_but_not_counted(
    client: Client, collaboration: Collaboration
) -> None:
    response = client.head(f"/r/{collaboration.tracking_code}", HTTP_USER_AGENT=BROWSER)
    assert response.status_code == 302
    assert response["Location"] == LANDING_URL
    assert pending() == []


def test_a_warm_redirect_makes_no_database_query_at_all(
    client: Client,
    collaboration: Collaboration,
    django_assert_max_num_queries: Callable[..., Any],
) -> None:
    # given: the first visit fills the cache
    visit(client, collaboration.tracking_code)

    # when / then
    with django_assert_max_num_queries(0):
        response = visit(client, collaboration.tracking_code)
    assert "click_id=" in response["Location"]
    assert len(pending()) == 2


def test_a_redis_that_does_not_know_the_lookup_script_gets_it_loaded(
    client: Client, collaboration: Collaboration, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a warm cache, and a script Redis has never seen (as after a restart)
    visit(client, collaboration.tracking_code)
    script = tracking._LOOKUP_AND_RECORD_SCRIPT + f"-- {uuid.uuid4()}\n"
    monkeypatch.setattr(tracking, "_LOOKUP_AND_RECORD_SCRIPT", script)
    monkeypatch.setattr(
        tracking,
        "_LOOKUP_AND_RECORD_SHA",
        hashlib.sha1(script.encode()).hexdigest(),  # noqa: S324
    )

    # when
    response = visit(client, collaboration.tracking_code)

    # then
    assert [record.click_id for record in pending()][1] == click_id_in(response["Location"])


def test_a_cold_redirect_only_reads_the_database_once(
    client: Client, collaboration: Collaboration
) -> None:
    # when
    with CaptureQueriesContext(connection) as queries:
        response = visit(client, collaboration.tracking_code)

    # then
    assert "click_id=" in response["Location"]
    statements = [q["sql"] for q in queries.captured_queries]
    assert len(statements) == 1
    assert statements[0].startswith("SELECT")
    assert not any("INSERT" in sql or "UPDATE" in sql for sql in statements)


def test_the_ip_address_is_stored_only_as_a_keyed_hash(
    client: Client, collaboration: Collaboration, settings: Any
) -> None:
    # given
    settings.CLICK_IP_HASH_KEY = "a-test-key-for-click-ips"
    expected = hmac.new(b"a-test-key-for-click-ips", b"203.0.113.7", hashlib.sha256).hexdigest()

    # when
    visit(client, collaboration.tracking_code, REMOTE_ADDR="203.0.113.7")
    raw_record = click_buffer().lrange(PENDING_KEY, 0, -1)[0]
    click_buffer_flush()

    # then
    assert b"203.0.113.7" not in raw_record
    click = Click.objects.get()
    assert click.ip_hash == expected
    assert expected != hashlib.sha256(b"203.0.113.7").hexdigest()  # keyed, not a plain hash
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM campaigns_click WHERE campaigns_click::text LIKE %s",
            ["%203.0.113.7%"],
        )
        assert cursor.fetchone()[0] == 0


def test_the_user_agent_and_referrer_are_stored_cut_to_their_columns(
    client: Client, collaboration: Collaboration
) -> None:
    # given
    long_referrer = "https://www.instagram.com/" + "r" * 500

    # when
    visit(
        client,
        collaboration.tracking_code,
        user_agent=BROWSER + " x" * 300,
        HTTP_REFERER=long_referrer,
    )
    click_buffer_flush()

    # then
    click = Click.objects.get()
    assert click.user_agent == (BROWSER + " x" * 300)[:400]
    assert click.referrer == long_referrer[:400]
    assert click.collaboration_id == collaboration.pk


def test_a_click_buffer_on_its_own_redis_gets_the_click_in_a_second_round_trip(
    client: Client, collaboration: Collaboration, settings: Any
) -> None:
    # given: the buffer configured apart from the cache (here: the same server, another URL)
    settings.CLICK_BUFFER_REDIS_URL = settings.CACHES["default"]["LOCATION"].replace(
        "127.0.0.1", "localhost"
    )
    visit(client, collaboration.tracking_code)

    # when: a warm visit
    response = visit(client, collaboration.tracking_code)

    # then
    assert [record.click_id for record in pending()][1] == click_id_in(response["Location"])


def test_with_the_click_buffer_down_the_visitor_is_redirected_and_the_click_stored(
    client: Client, collaboration: Collaboration, settings: Any
) -> None:
    # given: the click buffer points at a closed port
    settings.CLICK_BUFFER_REDIS_URL = "redis://127.0.0.1:1/0"

    # when
    response = visit(client, collaboration.tracking_code)

    # then: degraded mode wrote the click and its count straight to PostgreSQL
    click_id = click_id_of(
        response["Location"],
        "https://shop.example.com/spring?utm_source=connect&lang=pl&click_id=",
        "#sizes",
    )
    assert click_resolve(click_id) == (collaboration.pk, click_id_time(click_id))
    assert list(ClickDailyCount.objects.values_list("collaboration_id", "day", "clicks")) == [
        (collaboration.pk, click_id_time(click_id).date(), 1)
    ]


@pytest.fixture
def silent_redis() -> Iterator[str]:
    """A TCP port that accepts connections and never answers: a hung Redis."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"


def test_a_redis_that_hangs_delays_the_redirect_by_its_timeouts_only(
    client: Client,
    collaboration: Collaboration,
    settings: Any,
    silent_redis: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given: the cache and the click buffer on a Redis that never answers
    monkeypatch.setattr(tracking, "HOT_PATH_TIMEOUT_SECONDS", 0.2)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": silent_redis,
        }
    }
    started = time.monotonic()

    # when
    response = visit(client, collaboration.tracking_code)

    # then: the lookup gave up after 0.2 s, the push after its 1 s socket timeout, and the
    # click went to PostgreSQL
    assert time.monotonic() - started < 3
    click_id = click_id_in(response["Location"])
    assert click_resolve(click_id) == (collaboration.pk, click_id_time(click_id))


def test_with_all_of_redis_down_the_redirect_still_works_from_the_database(
    client: Client, collaboration: Collaboration, settings: Any
) -> None:
    # given: the tracking cache and the click buffer both unreachable
    settings.CLICK_BUFFER_REDIS_URL = "redis://127.0.0.1:1/0"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.25},
        }
    }

    # when
    response = visit(client, collaboration.tracking_code)

    # then
    assert response.status_code == 302
    click_id = click_id_in(response["Location"])
    assert click_resolve(click_id) == (collaboration.pk, click_id_time(click_id))
