"""The tracking redirect: `GET /r/<code>` sends the visitor to the campaign's landing URL with
a click id, and records the click without writing to the database.

This is the hottest endpoint of the system. On a warm cache a counted visit costs one Redis
round trip: a Lua script reads the code's cached target and, if the visit counts, appends the
click record to the buffer's pending list (campaigns/clicks.py moves it to PostgreSQL). The
entries are read and written with a plain redis-py client on the cache's Redis, under
Django's cache key (`cache.make_key`), so that `tracking_cache_forget`, which the services
call on every change, deletes them through Django's cache. When the click buffer is
configured on another Redis (CLICK_BUFFER_REDIS_URL), the lookup and the push are two round
trips. Either way the cache key and the pending list must live on one Redis server (not
spread over a Redis Cluster's slots) for the one-trip script.

The IP address is read from REMOTE_ADDR. Behind a load balancer or reverse proxy that is
the proxy's address: the deployment must set REMOTE_ADDR from the proxy's X-Forwarded-For
(for example gunicorn's `--forwarded-allow-ips` with the proxy's address, or the proxy's
own real-IP module), since a header the client can forge is never trusted here. Only a keyed
hash of the address (HMAC-SHA256 with CLICK_IP_HASH_KEY) is stored, never the address.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
import socket
import struct
import threading
import uuid
from typing import Any, NamedTuple, cast
from urllib.parse import parse_qsl, urlencode

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_safe

from campaigns.bots import is_bot
from campaigns.clicks import (
    PENDING_KEY,
    REFERRER_MAX_LENGTH,
    USER_AGENT_MAX_LENGTH,
    ClickRecord,
    cache_redis_url,
    clean_header_text,
    click_buffer_push,
    click_buffer_url,
    click_record_tail,
    clicks_store,
    new_click_id,
    redis_client,
)
from campaigns.models import CampaignStatus, Collaboration, CollaborationStatus
from campaigns.tracking_cache import tracking_cache_key

logger = logging.getLogger(__name__)

# The services forget a code's entry whenever its collaboration, campaign or landing URL
# changes; the TTL only bounds the rare race where a cache fill reads the database just
# before such a change commits.
TARGET_TTL_SECONDS = 600
# Unknown codes are cached briefly, so that a scanner hammering random codes costs Redis
# lookups rather than database reads.
UNKNOWN_TTL_SECONDS = 60
_UNKNOWN = b""
# Tracking codes are 10 letters and digits (campaigns/codes.py); anything else is unknown
# without a lookup.
_CODE_PATTERN = re.compile(r"[A-Za-z0-9]{1,32}")
CLICK_ID_PARAMETER = "click_id"

# KEYS: the code's cache entry, the pending click list. ARGV: the click record's tail, or ""
# when the visit cannot count (a bot, a HEAD request). The entry is a JSON array that starts
# with the collaboration id (0 when its clicks do not count), so Lua reads it with a match.
_LOOKUP_AND_RECORD_SCRIPT = """
local target = redis.call('GET', KEYS[1])
if target and ARGV[1] ~= '' then
    local collaboration_id = string.match(target, '^%[(%d+),')
    if collaboration_id and collaboration_id ~= '0' then
        redis.call('RPUSH', KEYS[2], '[' .. collaboration_id .. ',' .. ARGV[1])
    end
end
return target
"""


_LOOKUP_AND_RECORD_SHA = hashlib.sha1(_LOOKUP_AND_RECORD_SCRIPT.encode()).hexdigest()  # noqa: S324


class TrackingTarget(NamedTuple):
    """Where a tracking code leads, as cached in Redis.

    `click_url_prefix` is the landing URL without its fragment, ending in `?click_id=` or
    `&click_id=`, so that a redirect only concatenates. `collaboration_id` is None when the
    code's clicks do not count (collaboration no longer active, campaign not active, brand
    suspended): those visitors still reach the landing page, without a click id.
    """

    landing_url: str
    click_url_prefix: str
    fragment: str
    collaboration_id: int | None

    @property
    def counts(self) -> bool:
        return self.collaboration_id is not None

    def click_url(self, click_id: uuid.UUID) -> str:
        return f"{self.click_url_prefix}{click_id}{self.fragment}"

    def to_cache(self) -> str:
        return json.dumps(
            [self.collaboration_id or 0, self.landing_url, self.click_url_prefix, self.fragment],
            separators=(",", ":"),
        )

    @classmethod
    def from_cache(cls, value: bytes) -> TrackingTarget | None:
        """The target in a cache entry; None for the entry of an unknown code. ValueError
        for an entry this code cannot read (written by an older release)."""
        if value == _UNKNOWN:
            return None
        try:
            collaboration_id, landing_url, click_url_prefix, fragment = json.loads(value)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"unreadable tracking cache entry {value!r}") from exc
        return cls(landing_url, click_url_prefix, fragment, collaboration_id or None)


def tracking_target_build(*, landing_url: str, collaboration_id: int | None) -> TrackingTarget:
    """Precompute the redirect for a landing URL. Its own query parameters stay as the brand
    wrote them; only a `click_id` it already carries is replaced by ours."""
    base, hash_sign, fragment = landing_url.partition("#")
    path, question_mark, query = base.partition("?")
    if question_mark and any(key == CLICK_ID_PARAMETER for key, _ in parse_qsl(query, True)):
        kept = [(k, v) for k, v in parse_qsl(query, True) if k != CLICK_ID_PARAMETER]
        query = urlencode(kept)
    separator = "" if not query or query.endswith("&") else "&"
    prefix = f"{path}?{query}{separator}"
    return TrackingTarget(
        landing_url=landing_url,
        click_url_prefix=f"{prefix}{CLICK_ID_PARAMETER}=",
        fragment=f"{hash_sign}{fragment}",
        collaboration_id=collaboration_id,
    )


def _target_from_database(code: str) -> TrackingTarget | None:
    """One read: the collaboration with this code, its campaign's landing URL and status,
    and whether the brand is suspended."""
    rows = list(
        Collaboration.objects.filter(tracking_code=code).values_list(
            "id",
            "status",
            "campaign__landing_url",
            "campaign__status",
            "campaign__brand__suspended_at",
        )[:1]
    )
    if not rows:
        return None
    collaboration_id, status, landing_url, campaign_status, brand_suspended_at = rows[0]
    counts = (
        status == CollaborationStatus.ACTIVE
        and campaign_status == CampaignStatus.ACTIVE
        and brand_suspended_at is None
    )
    return tracking_target_build(
        landing_url=landing_url, collaboration_id=collaboration_id if counts else None
    )


def tracking_cache_entry_key(code: str) -> str:
    """The Redis key of a code's entry: Django's cache key, so Django's cache forgets it."""
    return cache.make_key(tracking_cache_key(code))


def _tracking_cache() -> redis.Redis:
    return redis_client(cache_redis_url())


# How long the redirect waits on Redis before it falls back to PostgreSQL.
HOT_PATH_TIMEOUT_SECONDS = 1.0


class _KernelTimeoutConnection(redis.Connection):
    """A Redis TCP connection whose reads and writes time out in the kernel (SO_RCVTIMEO,
    SO_SNDTIMEO) instead of in Python.

    With a Python socket timeout every send and receive first waits in poll(), and each of
    those calls releases the GIL: in a threaded server, a switch to another thread and back.
    A blocking socket with kernel timeouts sends and receives directly and still gives up
    after HOT_PATH_TIMEOUT_SECONDS (redis-py then raises ConnectionError).
    """

    def _connect(self) -> socket.socket:
        sock: socket.socket = super()._connect()  # blocking after connecting: no socket_timeout
        seconds, fraction = divmod(HOT_PATH_TIMEOUT_SECONDS, 1)
        timeval = struct.pack("ll", int(seconds), int(fraction * 1_000_000))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, timeval)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, timeval)
        return sock


_thread_connections = threading.local()


def _hot_path_connection() -> redis.connection.AbstractConnection:
    """This thread's own connection to the cache's Redis (again after a fork)."""
    key = (os.getpid(), cache_redis_url())
    connection = getattr(_thread_connections, "connection", None)
    if connection is None or _thread_connections.key != key:
        if connection is not None:
            connection.disconnect()
        pool = _tracking_cache().connection_pool
        if pool.connection_class is redis.Connection:
            connection = _KernelTimeoutConnection(
                **{**pool.connection_kwargs, "socket_timeout": None}
            )
        else:  # TLS or a Unix socket: keep redis-py's own timeouts
            connection = pool.connection_class(**pool.connection_kwargs)
        _thread_connections.connection, _thread_connections.key = connection, key
    return connection


def _hot_path_call(*args: str | int) -> Any:
    """Send one command on this thread's own connection to the cache's Redis and return
    the reply.

    On the development machine the redirect's one round trip costs about 60 µs of CPU
    through a bare connection and about 100 µs through `redis.Redis`, whose pool checks and
    locks every connection it hands out, so each server thread keeps a connection of its
    own. Replies that are errors (such as NOSCRIPT) leave the connection usable; any other
    failure drops it, and the next call reconnects.
    """
    connection = _hot_path_connection()
    try:
        connection.send_command(*args)
        return connection.read_response()
    except redis.ResponseError:
        raise
    except BaseException:
        connection.disconnect()
        raise


def _target_fill(code: str) -> TrackingTarget | None:
    """On a cache miss: read the database once and cache what it says, unknown included."""
    target = _target_from_database(code)
    try:
        if target is None:
            _tracking_cache().set(tracking_cache_entry_key(code), _UNKNOWN, ex=UNKNOWN_TTL_SECONDS)
        else:
            _tracking_cache().set(
                tracking_cache_entry_key(code), target.to_cache(), ex=TARGET_TTL_SECONDS
            )
    except redis.RedisError:
        logger.warning("The tracking cache is unreachable; code %s stays uncached", code)
    return target


def tracking_target_get(code: str) -> TrackingTarget | None:
    """The redirect target of a tracking code, from the Redis cache, or from PostgreSQL on
    a miss (then cached). None for an unknown code.

    If the cache is unreachable, the database answers every request: slower, still right.
    """
    if not _CODE_PATTERN.fullmatch(code):
        return None
    try:
        cached = cast(bytes | None, _tracking_cache().get(tracking_cache_entry_key(code)))
    except redis.RedisError:
        logger.warning("The tracking cache is unreachable; reading code %s from the database", code)
        return _target_from_database(code)
    return _target_from_entry(code, cached)


def _target_from_entry(code: str, cached: bytes | None) -> TrackingTarget | None:
    """The target in a cache entry; a missing or unreadable entry is (re)filled."""
    if cached is not None:
        try:
            return TrackingTarget.from_cache(cached)
        except ValueError:
            logger.warning("Replacing the unreadable tracking cache entry of code %s", code)
    return _target_fill(code)


def _target_get_and_record(code: str, record_tail: str) -> tuple[TrackingTarget | None, bool]:
    """Look the code up and, when it counts, buffer the click, in one round trip.

    Returns the target (None: unknown) and whether the click was buffered. A miss buffers
    nothing: the caller fills the cache and records the click itself.
    """
    if not _CODE_PATTERN.fullmatch(code):
        return None, False
    if click_buffer_url() != cache_redis_url():
        return tracking_target_get(code), False
    command = ("EVALSHA", _LOOKUP_AND_RECORD_SHA, 2, tracking_cache_entry_key(code))
    try:
        try:
            cached = _hot_path_call(*command, PENDING_KEY, record_tail)
        except redis.exceptions.NoScriptError:
            # The first call on this Redis, or it restarted: load the script and retry.
            _tracking_cache().script_load(_LOOKUP_AND_RECORD_SCRIPT)
            cached = _hot_path_call(*command, PENDING_KEY, record_tail)
    except redis.RedisError:
        logger.warning("Redis is unreachable; reading code %s from the database", code)
        return _target_from_database(code), False
    if cached is None:
        return _target_fill(code), False
    try:
        target = TrackingTarget.from_cache(cached)
    except ValueError:
        # The script could not read the entry either, so it buffered nothing.
        return _target_from_entry(code, None), False
    return target, bool(record_tail) and target is not None and target.counts


def ip_hash(ip_address: str) -> str:
    """A keyed hash of the visitor's IP address: it tells repeat clicks from one address
    apart without storing the address, and without the key it cannot be reversed by
    hashing the whole IPv4 space."""
    if not ip_address:
        return ""
    key = settings.CLICK_IP_HASH_KEY.encode()
    return hmac.new(key, ip_address.encode(), hashlib.sha256).hexdigest()


def click_record(record: ClickRecord) -> None:
    """Record a counted click with one Redis round trip (the path after a cache miss, or
    when the buffer lives on its own Redis).

    Degraded mode: when Redis cannot take the click, it is inserted straight into
    PostgreSQL (with its daily count) instead, so it is kept at the cost of a database
    write on the request path. If the database fails too, the click is lost and logged;
    the visitor is still redirected.
    """
    try:
        click_buffer_push(record)
        return
    except redis.RedisError as exc:
        logger.warning(
            "Click buffer unavailable (%s); storing click %s directly", exc, record.click_id
        )
    try:
        clicks_store([record])
    except DatabaseError:
        logger.exception("Could not store click %s", record.click_id)


def _redirect(url: str) -> HttpResponse:
    response = HttpResponseRedirect(url)
    # Every counted visit gets its own click id: nothing may cache this answer.
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@require_safe
def tracking_redirect(request: HttpRequest, code: str) -> HttpResponse:
    """302 to the landing URL, with a click id when the visit counts.

    Not counted (and no click id): HEAD requests, known bots and link previewers, and codes
    whose collaboration, campaign or brand is not active. Unknown codes get a 404 page.
    """
    user_agent = request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_MAX_LENGTH]
    may_count = request.method == "GET" and not is_bot(user_agent)
    click_id = new_click_id()
    hashed_ip = referrer = record_tail = ""
    if may_count:
        hashed_ip = ip_hash(request.META.get("REMOTE_ADDR", ""))
        user_agent = clean_header_text(user_agent, USER_AGENT_MAX_LENGTH)
        referrer = clean_header_text(request.META.get("HTTP_REFERER", ""), REFERRER_MAX_LENGTH)
        record_tail = click_record_tail(
            click_id=click_id, ip_hash=hashed_ip, user_agent=user_agent, referrer=referrer
        )

    target, recorded = _target_get_and_record(code, record_tail)
    if target is None:
        return render(request, "campaigns/tracking_404.html", status=404)
    if not may_count or target.collaboration_id is None:
        return _redirect(target.landing_url)
    if not recorded:  # a cache miss, or the buffer on its own Redis
        click_record(
            ClickRecord(click_id, target.collaboration_id, hashed_ip, user_agent, referrer)
        )
    return _redirect(target.click_url(click_id))
