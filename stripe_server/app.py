"""WSGI app: the Stripe API subset (accounts, account links, transfers, reversals, balance,
payouts, events), its onboarding page, signed webhooks and /_control/ endpoints for tests.

A deleted connected account is gone as it is at Stripe: not found by id, not listed, no
transfers to it, no requests on its behalf. Its balances stay behind (at zero, since deleting
refuses any other balance) so that a payout still on its way settles as before.

Only the standard library is used. All state sits in one `State` behind one lock; webhooks are
delivered by a background thread, outside the lock, in the order the events were made. Another
thread pays out connected accounts' payouts once they have been pending for
`settle_payouts_after` seconds, as the bank would (off unless set, so tests decide).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import html
import json
import queue
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qsl
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

API_VERSION = "2026-10-28.endive"
# How often the settling thread looks for payouts that have been pending long enough.
SETTLE_TICK_SECONDS = 0.25
STATUS_TEXT = {
    200: "OK",
    303: "See Other",
    400: "Bad Request",
    401: "Unauthorized",
    402: "Payment Required",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    500: "Internal Server Error",
}

Obj = dict[str, Any]


class StripeError(Exception):
    """An API error, rendered as `{"error": {"type", "code", "param", "message"}}`.

    `saved`: the request got far enough to be recorded under its idempotency key (Stripe does
    not save answers to requests that failed validation).
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        saved: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.saved = saved

    def body(self) -> Obj:
        error: Obj = {"type": self.type, "message": self.message}
        if self.code:
            error["code"] = self.code
        if self.param:
            error["param"] = self.param
        return {"error": error}


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def sign_payload(payload: str, secret: str, timestamp: int) -> str:
    """The `Stripe-Signature` header: `t=<ts>,v1=<hex HMAC-SHA256 of "<ts>.<payload>">`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


# --- form decoding ---------------------------------------------------------------------------

_KEY_PART = re.compile(r"\[([^\]]*)\]")


def _listify(node: Any) -> Any:
    if isinstance(node, dict):
        node = {k: _listify(v) for k, v in node.items()}
        if node and all(k.isdigit() for k in node):
            return [node[k] for k in sorted(node, key=int)]
    return node


def decode_form(body: str) -> Obj:
    """`a[b][c]=1&l[0]=x&l[1]=y` → `{"a": {"b": {"c": "1"}}, "l": ["x", "y"]}`."""
    root: Obj = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        head = key.split("[", 1)[0]
        parts = [head, *_KEY_PART.findall(key[len(head) :])]
        node = root
        for i, part in enumerate(parts):
            if part == "":  # `a[]=` appends
                part = str(len(node))
            if i == len(parts) - 1:
                node[part] = value
            else:
                child = node.setdefault(part, {})
                if not isinstance(child, dict):
                    raise StripeError(400, f"Invalid parameter: {key}", param=head)
                node = child
    return _listify(root)


# --- parameter helpers -----------------------------------------------------------------------


def check_known(params: Obj, allowed: Iterable[str]) -> None:
    allowed_set = {*allowed, "expand"}
    for key in params:
        if key not in allowed_set:
            raise StripeError(400, f"Received unknown parameter: {key}", param=key)


def require(params: Obj, name: str) -> Any:
    if params.get(name) in (None, ""):
        raise StripeError(
            400, f"Missing required param: {name}.", code="parameter_missing", param=name
        )
    return params[name]


def positive_int(params: Obj, name: str, *, required: bool = True) -> int | None:
    if not required and params.get(name) in (None, ""):
        return None
    raw = require(params, name)
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise StripeError(
            400, f"Invalid integer: {raw}", code="parameter_invalid_integer", param=name
        ) from None
    if value <= 0:
        raise StripeError(
            400,
            "This value must be greater than or equal to 1.",
            code="parameter_invalid_integer",
            param=name,
        )
    return value


def currency_param(params: Obj) -> str:
    value = str(require(params, "currency")).lower()
    if not re.fullmatch(r"[a-z]{3}", value):
        raise StripeError(400, f"Invalid currency: {value}.", param="currency")
    return value


def merge_metadata(current: dict[str, str], given: Any) -> dict[str, str]:
    if given in (None, ""):
        return {} if given == "" else current
    if not isinstance(given, dict):
        raise StripeError(400, "Invalid object", param="metadata")
    merged = dict(current)
    for key, value in given.items():
        if value == "":
            merged.pop(key, None)
        else:
            merged[key] = str(value)
    return merged


def seconds_or_none(value: Any, param: str) -> float | None:
    """A number of seconds (0 or more), or None for "" / "off" / "none"."""
    if value is None or str(value).strip().lower() in ("", "off", "none"):
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise StripeError(400, f"Invalid number of seconds: {value}", param=param) from None
    if not seconds >= 0 or seconds == float("inf"):
        raise StripeError(400, "The number of seconds must be 0 or more.", param=param)
    return seconds


def api_key(authorization: str) -> str:
    """The secret key of an `Authorization` header: `Bearer <key>` as the SDK sends it, or
    HTTP Basic with the key as the user name (`curl -u sk_test_...:`), as Stripe accepts."""
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "bearer":
        return credentials.strip()
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return ""
        return decoded.partition(":")[0]
    return ""


def as_bool(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def page(items: list[Obj], url: str, params: Obj) -> Obj:
    """A Stripe list, newest first, with `limit` and `starting_after`."""
    items = sorted(items, key=lambda o: o["_seq"], reverse=True)
    after = params.get("starting_after")
    if after:
        ids = [o["id"] for o in items]
        if after not in ids:
            raise StripeError(
                404, f"No such object: '{after}'", code="resource_missing", param="starting_after"
            )
        items = items[ids.index(after) + 1 :]
    try:
        limit = int(params.get("limit") or 10)
    except ValueError:
        raise StripeError(400, "Invalid integer", param="limit") from None
    limit = max(1, min(limit, 100))
    return {
        "object": "list",
        "data": [public(o) for o in items[:limit]],
        "has_more": len(items) > limit,
        "url": url,
    }


def public(obj: Obj) -> Obj:
    """The object without the server's private `_` fields."""
    return {k: v for k, v in obj.items() if not k.startswith("_")}


def money_list(amounts: dict[str, int]) -> list[Obj]:
    return [
        {"amount": amount, "currency": currency, "source_types": {"card": amount}}
        for currency, amount in sorted(amounts.items())
    ]


# --- state -----------------------------------------------------------------------------------


@dataclass
class Delivery:
    event_id: str
    status: int | None
    signature: str
    error: str = ""


@dataclass
class State:
    """Everything the server knows; guard every access with `lock`."""

    webhook_url: str = ""
    webhook_secret: str = ""
    # Seconds a payout stays pending before it is paid on its own; None: only when told.
    settle_payouts_after: float | None = None
    lock: threading.RLock = field(default_factory=threading.RLock)
    seq: int = 0
    platform_balance: dict[str, int] = field(default_factory=dict)
    account_balances: dict[str, dict[str, int]] = field(default_factory=dict)
    accounts: dict[str, Obj] = field(default_factory=dict)
    transfers: dict[str, Obj] = field(default_factory=dict)
    reversals: dict[str, Obj] = field(default_factory=dict)
    payouts: dict[str, Obj] = field(default_factory=dict)
    events: dict[str, Obj] = field(default_factory=dict)
    links: dict[str, Obj] = field(default_factory=dict)
    idempotency: dict[tuple[str, str], Obj] = field(default_factory=dict)
    faults: dict[str, int] = field(default_factory=dict)
    deliveries: list[Delivery] = field(default_factory=list)
    outbox: queue.Queue[tuple[str, int | None]] = field(default_factory=queue.Queue)

    def reset(self) -> None:
        with self.lock:
            for store in (
                self.platform_balance,
                self.account_balances,
                self.accounts,
                self.transfers,
                self.reversals,
                self.payouts,
                self.events,
                self.links,
                self.idempotency,
                self.faults,
            ):
                store.clear()
            self.deliveries.clear()
            self.settle_payouts_after = None

    def stamp(self, obj: Obj) -> Obj:
        self.seq += 1
        obj["_seq"] = self.seq
        return obj

    def take_fault(self, name: str) -> bool:
        left = self.faults.get(name, 0)
        if left > 0:
            self.faults[name] = left - 1
            return True
        return False

    def record_event(
        self,
        type: str,
        obj: Obj,
        *,
        account: str | None = None,
        previous: Obj | None = None,
        request: Obj | None = None,
    ) -> Obj:
        data: Obj = {"object": json.loads(json.dumps(public(obj)))}
        if previous is not None:
            data["previous_attributes"] = previous
        event = self.stamp(
            {
                "id": new_id("evt"),
                "object": "event",
                "api_version": API_VERSION,
                "created": int(time.time()),
                "data": data,
                "livemode": False,
                "pending_webhooks": 1 if self.webhook_url else 0,
                "request": request or {"id": None, "idempotency_key": None},
                "type": type,
            }
        )
        if account:
            event["account"] = account
        self.events[event["id"]] = event
        if self.webhook_url:
            self.outbox.put((event["id"], None))
        return event


# --- the WSGI app ----------------------------------------------------------------------------


@dataclass
class Request:
    method: str
    path: str
    params: Obj
    raw_body: str
    headers: dict[str, str]
    base_url: str
    account: str | None
    request_id: str

    @property
    def event_request(self) -> Obj:
        return {"id": self.request_id, "idempotency_key": self.headers.get("idempotency-key")}


@dataclass
class Response:
    status: int
    body: Any
    headers: list[tuple[str, str]] = field(default_factory=list)
    content_type: str = "application/json"
    delay: float = 0.0  # seconds to stall before answering, outside the lock


Handler = Callable[[Request, "re.Match[str]"], Response]


class App:
    def __init__(self, state: State | None = None) -> None:
        self.state = state or State()
        self.routes: list[tuple[str, re.Pattern[str], Handler, bool]] = []
        api = [
            ("GET", r"/v1/accounts", self.accounts_list),
            ("POST", r"/v1/accounts", self.accounts_create),
            ("GET", r"/v1/accounts/(acct_\w+)", self.accounts_retrieve),
            ("POST", r"/v1/accounts/(acct_\w+)", self.accounts_update),
            ("DELETE", r"/v1/accounts/(acct_\w+)", self.accounts_delete),
            ("POST", r"/v1/account_links", self.account_links_create),
            ("GET", r"/v1/transfers", self.transfers_list),
            ("POST", r"/v1/transfers", self.transfers_create),
            ("GET", r"/v1/transfers/(tr_\w+)", self.transfers_retrieve),
            ("POST", r"/v1/transfers/(tr_\w+)/reversals", self.reversals_create),
            ("GET", r"/v1/transfers/(tr_\w+)/reversals", self.reversals_list),
            ("GET", r"/v1/balance", self.balance_retrieve),
            ("POST", r"/v1/payouts", self.payouts_create),
            ("GET", r"/v1/payouts/(po_\w+)", self.payouts_retrieve),
            ("GET", r"/v1/events", self.events_list),
            ("GET", r"/v1/events/(evt_\w+)", self.events_retrieve),
        ]
        control = [
            ("GET", r"/onboarding/(\w+)", self.onboarding_page),
            ("POST", r"/onboarding/(\w+)", self.onboarding_submit),
            ("POST", r"/_control/reset", self.control_reset),
            ("POST", r"/_control/balance", self.control_balance),
            ("POST", r"/_control/accounts/(acct_\w+)", self.control_account),
            ("POST", r"/_control/payouts/(po_\w+)", self.control_payout),
            ("POST", r"/_control/faults", self.control_faults),
            ("POST", r"/_control/settings", self.control_settings),
            ("POST", r"/_control/idempotency/forget", self.control_forget),
            ("POST", r"/_control/webhooks", self.control_webhooks),
            ("POST", r"/_control/webhooks/drain", self.control_drain),
            ("GET", r"/_control/webhooks/deliveries", self.control_deliveries),
            ("POST", r"/_control/events/send", self.control_send_events),
        ]
        for method, pattern, handler in api:
            self.routes.append((method, re.compile(pattern + "$"), handler, True))
        for method, pattern, handler in control:
            self.routes.append((method, re.compile(pattern + "$"), handler, False))
        self._sender = threading.Thread(target=self._deliver_forever, daemon=True)
        self._sender.start()
        self._settler = threading.Thread(target=self._settle_forever, daemon=True)
        self._settler.start()

    # WSGI entry point
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        request_id = new_id("req")
        try:
            response = self.handle(environ, request_id)
        except StripeError as error:
            response = Response(error.status, error.body())
        headers = [("Request-Id", request_id), ("Stripe-Version", API_VERSION), *response.headers]
        if response.content_type == "application/json":
            payload = json.dumps(response.body, indent=2).encode()
        else:
            payload = str(response.body).encode()
        headers.append(("Content-Type", f"{response.content_type}; charset=utf-8"))
        headers.append(("Content-Length", str(len(payload))))
        if response.delay:
            time.sleep(response.delay)
        start_response(f"{response.status} {STATUS_TEXT.get(response.status, '')}", headers)
        return [payload]

    def handle(self, environ: dict[str, Any], request_id: str) -> Response:
        method = environ["REQUEST_METHOD"].upper()
        path = environ.get("PATH_INFO", "") or "/"
        headers = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw_body = environ["wsgi.input"].read(length).decode() if length else ""
        if environ.get("CONTENT_TYPE", "").startswith("application/json") and raw_body:
            params: Obj = json.loads(raw_body)
        else:
            params = decode_form(raw_body if method == "POST" else environ.get("QUERY_STRING", ""))
        host = environ.get("HTTP_HOST") or f"{environ['SERVER_NAME']}:{environ['SERVER_PORT']}"
        request = Request(
            method=method,
            path=path,
            params=params,
            raw_body=raw_body,
            headers=headers,
            base_url=f"{environ.get('wsgi.url_scheme', 'http')}://{host}",
            account=headers.get("stripe-account") or None,
            request_id=request_id,
        )
        path_known = False
        for route_method, pattern, handler, is_api in self.routes:
            match = pattern.match(path)
            if not match:
                continue
            path_known = True
            if route_method != method:
                continue
            if is_api:
                self.authenticate(request)
                return self.idempotent(request, handler, match)
            with self.state.lock:
                return handler(request, match)
        if path_known:
            raise StripeError(405, f"Unrecognized request URL ({method}: {path}).")
        raise StripeError(404, f"Unrecognized request URL ({method}: {path}).")

    def authenticate(self, request: Request) -> None:
        key = api_key(request.headers.get("authorization", ""))
        if not key.startswith("sk_test_"):
            raise StripeError(401, f"Invalid API Key provided: {key[:12] or '(none)'}")
        if request.account and request.account not in self.state.accounts:
            raise StripeError(
                403 if request.account.startswith("acct_") else 400,
                f"The provided key does not have access to account '{request.account}' "
                "(or that account does not exist).",
                type="invalid_request_error",
                code="account_invalid",
            )

    def idempotent(self, request: Request, handler: Handler, match: re.Match[str]) -> Response:
        key = request.headers.get("idempotency-key")
        with self.state.lock:
            if request.method not in ("POST", "DELETE") or not key:
                return handler(request, match)
            scope = (request.account or "", key)
            fingerprint = [request.method, request.path, sorted(parse_qsl(request.raw_body))]
            saved = self.state.idempotency.get(scope)
            if saved is not None:
                if saved["fingerprint"] != json.loads(json.dumps(fingerprint)):
                    raise StripeError(
                        400,
                        "Keys for idempotent requests can only be used with the same parameters "
                        f"they were first used with. Try using a key other than '{key}' if you "
                        "meant to execute a different request.",
                        type="idempotency_error",
                        code="idempotency_key_in_use",
                    )
                return Response(
                    saved["status"], saved["body"], headers=[("Idempotent-Replayed", "true")]
                )
            try:
                response = handler(request, match)
            except StripeError as error:
                if not error.saved:
                    raise
                response = Response(error.status, error.body())
            self.state.idempotency[scope] = {
                "fingerprint": json.loads(json.dumps(fingerprint)),
                "status": response.status,
                "body": response.body,
            }
            response.headers.append(("Idempotency-Key", key))
            return response

    # --- accounts ----------------------------------------------------------------------------

    def account(self, account_id: str) -> Obj:
        account = self.state.accounts.get(account_id)
        if account is None:
            raise StripeError(
                404, f"No such account: '{account_id}'", code="resource_missing", param="account"
            )
        return account

    def accounts_list(self, request: Request, match: re.Match[str]) -> Response:
        return Response(
            200, page(list(self.state.accounts.values()), "/v1/accounts", request.params)
        )

    def accounts_create(self, request: Request, match: re.Match[str]) -> Response:
        p = request.params
        check_known(
            p,
            [
                "type",
                "controller",
                "country",
                "email",
                "capabilities",
                "business_type",
                "business_profile",
                "default_currency",
                "metadata",
            ],
        )
        controller_in = p.get("controller") or {}
        if not isinstance(controller_in, dict):
            raise StripeError(400, "Invalid object", param="controller")
        if p.get("type") and controller_in:
            raise StripeError(
                400, "You cannot specify both `type` and `controller`.", param="controller"
            )
        dashboard = (controller_in.get("stripe_dashboard") or {}).get("type", "full")
        account_type = p.get("type") or {"express": "express", "none": "custom"}.get(
            dashboard, "standard"
        )
        if account_type not in ("standard", "express", "custom"):
            raise StripeError(400, f"Invalid type: {account_type}", param="type")
        controller: Obj = {
            "fees": {"payer": (controller_in.get("fees") or {}).get("payer", "application")},
            "is_controller": True,
            "losses": {
                "payments": (controller_in.get("losses") or {}).get("payments", "application")
            },
            "requirement_collection": controller_in.get("requirement_collection", "stripe"),
            "stripe_dashboard": {"type": dashboard},
            "type": "application",
        }
        capabilities = {
            name: "inactive"
            for name, wanted in (p.get("capabilities") or {}).items()
            if isinstance(wanted, dict) and as_bool(wanted.get("requested"))
        }
        country = str(p.get("country") or "US").upper()
        account_id = new_id("acct")
        due = ["business_type", "external_account", "tos_acceptance.date", "tos_acceptance.ip"]
        account = self.state.stamp(
            {
                "id": account_id,
                "object": "account",
                "business_profile": {
                    "mcc": None,
                    "name": None,
                    "product_description": None,
                    "support_email": None,
                    "url": None,
                    **(p.get("business_profile") or {}),
                },
                "business_type": p.get("business_type"),
                "capabilities": capabilities,
                "charges_enabled": False,
                "company": None,
                "controller": controller,
                "country": country,
                "created": int(time.time()),
                "default_currency": str(p.get("default_currency") or "usd").lower(),
                "details_submitted": False,
                "email": p.get("email"),
                "external_accounts": {
                    "object": "list",
                    "data": [],
                    "has_more": False,
                    "total_count": 0,
                    "url": f"/v1/accounts/{account_id}/external_accounts",
                },
                "future_requirements": requirements([]),
                "groups": None,
                "individual": None,
                "livemode": False,
                "metadata": merge_metadata({}, p.get("metadata")),
                "payouts_enabled": False,
                "requirements": requirements(due, disabled_reason="requirements.past_due"),
                "settings": {
                    "payouts": {
                        "debit_negative_balances": True,
                        "schedule": {"delay_days": 2, "interval": "manual"},
                        "statement_descriptor": None,
                    }
                },
                "tos_acceptance": {
                    "date": None,
                    "ip": None,
                    "service_agreement": "full",
                    "user_agent": None,
                },
                "type": account_type,
            }
        )
        self.state.accounts[account_id] = account
        self.state.account_balances[account_id] = {}
        return Response(200, public(account))

    def accounts_retrieve(self, request: Request, match: re.Match[str]) -> Response:
        return Response(200, public(self.account(match[1])))

    def accounts_update(self, request: Request, match: re.Match[str]) -> Response:
        account = self.account(match[1])
        p = request.params
        check_known(
            p, ["email", "business_profile", "business_type", "default_currency", "metadata"]
        )
        previous: Obj = {}
        for name in ("email", "business_type", "default_currency"):
            if name in p and p[name] != account[name]:
                previous[name] = account[name]
                account[name] = p[name] or None
        if isinstance(p.get("business_profile"), dict):
            previous["business_profile"] = dict(account["business_profile"])
            account["business_profile"].update(p["business_profile"])
        if "metadata" in p:
            previous["metadata"] = account["metadata"]
            account["metadata"] = merge_metadata(account["metadata"], p["metadata"])
        if previous:
            self.state.record_event(
                "account.updated",
                account,
                account=account["id"],
                previous=previous,
                request=request.event_request,
            )
        return Response(200, public(account))

    def accounts_delete(self, request: Request, match: re.Match[str]) -> Response:
        """Delete a connected account, as Stripe does in live mode for accounts whose negative
        balances the platform is liable for (Express, Custom): only once every balance is zero.
        (Stripe's test mode deletes at any time; this server answers as live mode does, so that
        the refusal can be tested.)

        The balances of this server are the available ones (nothing is ever pending), in
        every currency the account has held; a negative one (more reversed than transferred)
        refuses as well as a positive one.
        """
        account = self.account(match[1])
        check_known(request.params, [])
        balances = self.state.account_balances.get(account["id"], {})
        left = {currency: amount for currency, amount in sorted(balances.items()) if amount}
        if left:
            amounts = ", ".join(f"{amount} {currency}" for currency, amount in left.items())
            raise StripeError(
                400,
                f"The account {account['id']} cannot be deleted while its balance is not zero "
                f"(available: {amounts}). Pay the balance out or reverse the transfers first.",
                saved=True,
            )
        del self.state.accounts[account["id"]]
        return Response(200, {"id": account["id"], "object": "account", "deleted": True})

    def account_links_create(self, request: Request, match: re.Match[str]) -> Response:
        p = request.params
        check_known(p, ["account", "type", "refresh_url", "return_url", "collect"])
        account = self.account(require(p, "account"))
        link_type = require(p, "type")
        if link_type not in ("account_onboarding", "account_update"):
            raise StripeError(400, f"Invalid type: {link_type}", param="type")
        token = secrets.token_urlsafe(18).replace("-", "x")
        now = int(time.time())
        self.state.links[token] = {
            "account": account["id"],
            "expires_at": now + 300,
            "used": False,
            "refresh_url": p.get("refresh_url"),
            "return_url": p.get("return_url"),
        }
        return Response(
            200,
            {
                "object": "account_link",
                "created": now,
                "expires_at": now + 300,
                "url": f"{request.base_url}/onboarding/{token}",
            },
        )

    def dead_link(self, token: str) -> Response | None:
        """A used or expired link sends the browser to its `refresh_url`, as Stripe does."""
        link = self.state.links.get(token)
        if link is None:
            return Response(404, "<h1>Unknown link.</h1>", content_type="text/html")
        if link["used"] or link["expires_at"] < time.time():
            if link["refresh_url"]:
                return Response(
                    303, "", headers=[("Location", link["refresh_url"])], content_type="text/html"
                )
            return Response(404, "<h1>This link has expired.</h1>", content_type="text/html")
        return None

    def onboarding_page(self, request: Request, match: re.Match[str]) -> Response:
        dead = self.dead_link(match[1])
        if dead is not None:
            return dead
        account = self.account(self.state.links[match[1]]["account"])
        body = (
            "<!doctype html><html><head><title>Onboarding</title></head><body>"
            f"<h1>Set up payouts for {html.escape(account['id'])}</h1>"
            f'<form method="post" action="/onboarding/{match[1]}">'
            '<button type="submit" id="complete">Agree and submit</button></form>'
            "</body></html>"
        )
        return Response(200, body, content_type="text/html")

    def onboarding_submit(self, request: Request, match: re.Match[str]) -> Response:
        dead = self.dead_link(match[1])
        if dead is not None:
            return dead
        link = self.state.links[match[1]]
        link["used"] = True
        account = self.account(link["account"])
        self.complete_account(account, request)
        if link["return_url"]:
            return Response(
                303, "", headers=[("Location", link["return_url"])], content_type="text/html"
            )
        return Response(200, "<h1>Onboarding complete.</h1>", content_type="text/html")

    def complete_account(self, account: Obj, request: Request) -> None:
        previous = {
            "charges_enabled": account["charges_enabled"],
            "payouts_enabled": account["payouts_enabled"],
            "details_submitted": account["details_submitted"],
            "capabilities": dict(account["capabilities"]),
            "requirements": account["requirements"],
        }
        account["charges_enabled"] = True
        account["payouts_enabled"] = True
        account["details_submitted"] = True
        account["capabilities"] = dict.fromkeys(account["capabilities"], "active") or {
            "transfers": "active"
        }
        account["capabilities"]["transfers"] = "active"
        account["requirements"] = requirements([])
        account["tos_acceptance"] = {
            "date": int(time.time()),
            "ip": "127.0.0.1",
            "service_agreement": "full",
            "user_agent": request.headers.get("user-agent"),
        }
        bank = {
            "id": new_id("ba"),
            "object": "bank_account",
            "account": account["id"],
            "bank_name": "STRIPE TEST BANK",
            "country": account["country"],
            "currency": account["default_currency"],
            "default_for_currency": True,
            "last4": "6789",
            "status": "new",
        }
        account["external_accounts"]["data"] = [bank]
        account["external_accounts"]["total_count"] = 1
        self.state.record_event(
            "account.updated", account, account=account["id"], previous=previous
        )

    # --- transfers ---------------------------------------------------------------------------

    def transfer(self, transfer_id: str) -> Obj:
        transfer = self.state.transfers.get(transfer_id)
        if transfer is None:
            raise StripeError(
                404, f"No such transfer: '{transfer_id}'", code="resource_missing", param="id"
            )
        return transfer

    def transfers_list(self, request: Request, match: re.Match[str]) -> Response:
        p = request.params
        items = [
            t
            for t in self.state.transfers.values()
            if ("transfer_group" not in p or t["transfer_group"] == p["transfer_group"])
            and ("destination" not in p or t["destination"] == p["destination"])
        ]
        return Response(200, page(items, "/v1/transfers", p))

    def transfers_retrieve(self, request: Request, match: re.Match[str]) -> Response:
        return Response(200, public(self.transfer(match[1])))

    def transfers_create(self, request: Request, match: re.Match[str]) -> Response:
        p = request.params
        check_known(
            p, ["amount", "currency", "destination", "transfer_group", "description", "metadata"]
        )
        amount = positive_int(p, "amount")
        assert amount is not None
        currency = currency_param(p)
        destination = self.account(require(p, "destination"))
        if destination["capabilities"].get("transfers") != "active":
            raise StripeError(
                400,
                "Your destination account needs to have at least one of the following "
                "capabilities enabled: transfers, crypto_transfers, legacy_payments",
                code="insufficient_capabilities_for_transfer",
                param="destination",
            )
        metadata = merge_metadata({}, p.get("metadata"))
        if self.state.take_fault("transfer_balance_insufficient") or (
            self.state.platform_balance.get(currency, 0) < amount
        ):
            raise StripeError(
                400,
                "You have insufficient available funds in your Stripe account. Try adding funds "
                "directly to your available balance by creating Charges using the "
                "4000000000000077 test card.",
                code="balance_insufficient",
                saved=True,
            )
        self.state.platform_balance[currency] -= amount
        balances = self.state.account_balances[destination["id"]]
        balances[currency] = balances.get(currency, 0) + amount
        transfer_id = new_id("tr")
        transfer = self.state.stamp(
            {
                "id": transfer_id,
                "object": "transfer",
                "amount": amount,
                "amount_reversed": 0,
                "balance_transaction": new_id("txn"),
                "created": int(time.time()),
                "currency": currency,
                "description": p.get("description"),
                "destination": destination["id"],
                "destination_payment": new_id("py"),
                "livemode": False,
                "metadata": metadata,
                "reversals": {
                    "object": "list",
                    "data": [],
                    "has_more": False,
                    "total_count": 0,
                    "url": f"/v1/transfers/{transfer_id}/reversals",
                },
                "reversed": False,
                "source_transaction": None,
                "source_type": "card",
                "transfer_group": p.get("transfer_group"),
            }
        )
        self.state.transfers[transfer_id] = transfer
        self.state.record_event("transfer.created", transfer, request=request.event_request)
        if self.state.take_fault("transfer_500_after_create"):
            raise StripeError(
                500, "An unknown error occurred", type="api_error", code=None, saved=True
            )
        response = Response(200, public(transfer))
        if self.state.take_fault("transfer_timeout_after_create"):
            response.delay = self.state.faults.get("timeout_seconds", 5)
        return response

    def reversals_create(self, request: Request, match: re.Match[str]) -> Response:
        transfer = self.transfer(match[1])
        p = request.params
        check_known(p, ["amount", "description", "metadata", "refund_application_fee"])
        remaining = transfer["amount"] - transfer["amount_reversed"]
        amount = positive_int(p, "amount", required=False) or remaining
        if amount > remaining:
            raise StripeError(
                400,
                f"Transfer {transfer['id']} has only {remaining} left to reverse, "
                f"you requested {amount}.",
                param="amount",
            )
        if transfer["destination"] not in self.state.accounts:
            raise StripeError(
                400,
                f"The account {transfer['destination']} has been deleted, so this transfer "
                "cannot be reversed.",
                saved=True,
            )
        currency = transfer["currency"]
        balances = self.state.account_balances[transfer["destination"]]
        balances[currency] = balances.get(currency, 0) - amount
        self.state.platform_balance[currency] = (
            self.state.platform_balance.get(currency, 0) + amount
        )
        reversal = self.state.stamp(
            {
                "id": new_id("trr"),
                "object": "transfer_reversal",
                "amount": amount,
                "balance_transaction": new_id("txn"),
                "created": int(time.time()),
                "currency": currency,
                "destination_payment_refund": new_id("pyr"),
                "livemode": False,
                "metadata": merge_metadata({}, p.get("metadata")),
                "source_refund": None,
                "transfer": transfer["id"],
            }
        )
        self.state.reversals[reversal["id"]] = reversal
        transfer["amount_reversed"] += amount
        transfer["reversed"] = transfer["amount_reversed"] == transfer["amount"]
        transfer["reversals"]["data"].insert(0, public(reversal))
        transfer["reversals"]["total_count"] += 1
        self.state.record_event("transfer.reversed", transfer, request=request.event_request)
        return Response(200, public(reversal))

    def reversals_list(self, request: Request, match: re.Match[str]) -> Response:
        transfer = self.transfer(match[1])
        items = [r for r in self.state.reversals.values() if r["transfer"] == transfer["id"]]
        return Response(
            200, page(items, f"/v1/transfers/{transfer['id']}/reversals", request.params)
        )

    # --- balance and payouts -----------------------------------------------------------------

    def balance_retrieve(self, request: Request, match: re.Match[str]) -> Response:
        if request.account:
            amounts = self.state.account_balances[request.account]
        else:
            amounts = self.state.platform_balance
        return Response(
            200,
            {
                "object": "balance",
                "available": money_list(amounts),
                "connect_reserved": [],
                "instant_available": [],
                "livemode": False,
                "pending": money_list(dict.fromkeys(amounts, 0)),
            },
        )

    def payouts_create(self, request: Request, match: re.Match[str]) -> Response:
        if not request.account:
            raise StripeError(
                400,
                "This server only makes payouts from connected accounts: send a Stripe-Account "
                "header.",
            )
        account = self.account(request.account)
        p = request.params
        check_known(
            p, ["amount", "currency", "description", "metadata", "method", "statement_descriptor"]
        )
        amount = positive_int(p, "amount")
        assert amount is not None
        currency = currency_param(p)
        if not account["payouts_enabled"]:
            raise StripeError(
                400,
                "Payouts are not enabled for this account.",
                code="payouts_not_allowed",
                saved=True,
            )
        balances = self.state.account_balances[account["id"]]
        if balances.get(currency, 0) < amount:
            raise StripeError(
                400,
                "You have insufficient funds in your Stripe account for this transfer.",
                code="balance_insufficient",
                saved=True,
            )
        balances[currency] -= amount
        bank = account["external_accounts"]["data"][0]["id"]
        now = int(time.time())
        payout = self.state.stamp(
            {
                "id": new_id("po"),
                "object": "payout",
                "amount": amount,
                "application_fee": None,
                "application_fee_amount": None,
                "arrival_date": now + 2 * 86400,
                "automatic": False,
                "balance_transaction": new_id("txn"),
                "created": now,
                "currency": currency,
                "description": p.get("description"),
                "destination": bank,
                "failure_balance_transaction": None,
                "failure_code": None,
                "failure_message": None,
                "livemode": False,
                "metadata": merge_metadata({}, p.get("metadata")),
                "method": p.get("method") or "standard",
                "original_payout": None,
                "payout_method": None,
                "reconciliation_status": "not_applicable",
                "reversed_by": None,
                "source_type": "card",
                "statement_descriptor": p.get("statement_descriptor"),
                "status": "pending",
                "trace_id": None,
                "type": "bank_account",
                "_account": account["id"],
                "_pending_since": time.monotonic(),
            }
        )
        self.state.payouts[payout["id"]] = payout
        self.state.record_event(
            "payout.created", payout, account=account["id"], request=request.event_request
        )
        return Response(200, public(payout))

    def payouts_retrieve(self, request: Request, match: re.Match[str]) -> Response:
        payout = self.state.payouts.get(match[1])
        if payout is None or payout["_account"] != request.account:
            raise StripeError(
                404, f"No such payout: '{match[1]}'", code="resource_missing", param="id"
            )
        return Response(200, public(payout))

    # --- events ------------------------------------------------------------------------------

    def events_list(self, request: Request, match: re.Match[str]) -> Response:
        p = request.params
        items = [e for e in self.state.events.values() if "type" not in p or e["type"] == p["type"]]
        return Response(200, page(items, "/v1/events", p))

    def events_retrieve(self, request: Request, match: re.Match[str]) -> Response:
        event = self.state.events.get(match[1])
        if event is None:
            raise StripeError(
                404, f"No such event: '{match[1]}'", code="resource_missing", param="id"
            )
        return Response(200, public(event))

    # --- control endpoints (no auth: tests and `make run` only) --------------------------------

    def control_reset(self, request: Request, match: re.Match[str]) -> Response:
        self.state.reset()
        return Response(200, {"ok": True})

    def control_balance(self, request: Request, match: re.Match[str]) -> Response:
        """`currency=eur&amount=100000`: the platform's available balance in that currency."""
        currency = currency_param(request.params)
        try:
            amount = int(require(request.params, "amount"))
        except ValueError:
            raise StripeError(400, "Invalid integer", param="amount") from None
        self.state.platform_balance[currency] = amount
        return Response(200, {"available": money_list(self.state.platform_balance)})

    def control_account(self, request: Request, match: re.Match[str]) -> Response:
        """Flip `payouts_enabled`, `charges_enabled`, `details_submitted`, `transfers` capability
        (`active`/`inactive`), or `complete=true` as the onboarding form does; records
        `account.updated`."""
        account = self.account(match[1])
        p = request.params
        if as_bool(p.get("complete")):
            self.complete_account(account, request)
            return Response(200, public(account))
        previous: Obj = {}
        for flag in ("payouts_enabled", "charges_enabled", "details_submitted"):
            if flag in p:
                previous[flag] = account[flag]
                account[flag] = as_bool(p[flag])
        if "transfers" in p:
            previous["capabilities"] = dict(account["capabilities"])
            account["capabilities"]["transfers"] = p["transfers"]
        self.state.record_event(
            "account.updated", account, account=account["id"], previous=previous
        )
        return Response(200, public(account))

    def control_payout(self, request: Request, match: re.Match[str]) -> Response:
        """`status=paid`, or `status=failed` (the bank refused it: the money returns to the
        connected account's balance) with an optional `failure_code`."""
        payout = self.state.payouts.get(match[1])
        if payout is None:
            raise StripeError(404, "No such payout", code="resource_missing")
        status = request.params.get("status")
        if payout["status"] != "pending" or status not in ("paid", "failed"):
            raise StripeError(400, "Only a pending payout can become paid or failed.")
        self.payout_settle(payout, status, failure_code=request.params.get("failure_code"))
        return Response(200, public(payout))

    def payout_settle(self, payout: Obj, status: str, *, failure_code: str | None = None) -> None:
        """Finish a pending payout as `paid` or `failed` and record `payout.<status>`.
        Hold the lock."""
        previous = {"status": payout["status"]}
        payout["status"] = status
        if status == "failed":
            payout["failure_code"] = failure_code or "account_closed"
            payout["failure_message"] = "The bank account has been closed."
            payout["failure_balance_transaction"] = new_id("txn")
            balances = self.state.account_balances[payout["_account"]]
            balances[payout["currency"]] = balances.get(payout["currency"], 0) + payout["amount"]
        self.state.record_event(
            f"payout.{status}", payout, account=payout["_account"], previous=previous
        )

    def payouts_settle_due(self, now: float | None = None) -> list[str]:
        """Pay every payout pending for at least `settle_payouts_after` seconds; returns their
        ids, oldest first."""
        now = time.monotonic() if now is None else now
        with self.state.lock:
            after = self.state.settle_payouts_after
            if after is None:
                return []
            due = sorted(
                (
                    p
                    for p in self.state.payouts.values()
                    if p["status"] == "pending" and now - p["_pending_since"] >= after
                ),
                key=lambda p: p["_seq"],
            )
            for payout in due:
                self.payout_settle(payout, "paid")
            return [p["id"] for p in due]

    def _settle_forever(self) -> None:
        while True:
            time.sleep(SETTLE_TICK_SECONDS)
            self.payouts_settle_due()

    def control_faults(self, request: Request, match: re.Match[str]) -> Response:
        """`transfer_500_after_create=N`: the next N transfers are made but answer 500;
        `transfer_balance_insufficient=N`: the next N transfers fail with balance_insufficient;
        `transfer_timeout_after_create=N` (with `timeout_seconds`, default 5): the next N
        transfers are made, then the answer stalls so the client times out."""
        for name in (
            "transfer_500_after_create",
            "transfer_balance_insufficient",
            "transfer_timeout_after_create",
            "timeout_seconds",
        ):
            if name in request.params:
                self.state.faults[name] = int(request.params[name])
        return Response(200, {"faults": dict(self.state.faults)})

    def control_settings(self, request: Request, match: re.Match[str]) -> Response:
        """`settle_payouts_after=N`: pay payouts out on their own once pending N seconds
        (`settle_payouts_after=` or `off`: only through /_control/payouts/<id>). With no
        parameters, answers the current settings. /_control/reset turns it off again."""
        p = request.params
        check_known(p, ["settle_payouts_after"])
        if "settle_payouts_after" in p:
            self.state.settle_payouts_after = seconds_or_none(
                p["settle_payouts_after"], "settle_payouts_after"
            )
        return Response(200, {"settle_payouts_after": self.state.settle_payouts_after})

    def control_forget(self, request: Request, match: re.Match[str]) -> Response:
        self.state.idempotency.clear()
        return Response(200, {"ok": True})

    def control_webhooks(self, request: Request, match: re.Match[str]) -> Response:
        """`url=...&secret=whsec_...`: where events are POSTed, signed with the secret."""
        p = request.params
        url = str(p.get("url") or "")
        if url and not url.startswith(("http://", "https://")):
            raise StripeError(400, "The webhook URL must be http(s).", param="url")
        self.state.webhook_url = url
        if "secret" in p:
            self.state.webhook_secret = str(p["secret"])
        return Response(200, {"url": self.state.webhook_url})

    def control_send_events(self, request: Request, match: re.Match[str]) -> Response:
        """`ids[0]=evt_b&ids[1]=evt_a`: (re)send those events in that order, so duplicates and
        reordering are the caller's choice; `timestamp_offset=-600` signs them as stale,
        `=600` as future-dated."""
        ids = request.params.get("ids") or []
        offset = int(request.params.get("timestamp_offset") or 0)
        for event_id in ids:
            if event_id not in self.state.events:
                raise StripeError(404, f"No such event: '{event_id}'", code="resource_missing")
        for event_id in ids:
            self.state.outbox.put((event_id, offset))
        return Response(200, {"queued": ids})

    def control_drain(self, request: Request, match: re.Match[str]) -> Response:
        """Wait until every queued webhook has been delivered (answered or failed)."""
        self.state.lock.release()
        try:
            self.state.outbox.join()
        finally:
            self.state.lock.acquire()
        return self.control_deliveries(request, match)

    def control_deliveries(self, request: Request, match: re.Match[str]) -> Response:
        return Response(
            200,
            {
                "data": [
                    {
                        "event": d.event_id,
                        "status": d.status,
                        "signature": d.signature,
                        "error": d.error,
                    }
                    for d in self.state.deliveries
                ]
            },
        )

    # --- webhook delivery --------------------------------------------------------------------

    def _deliver_forever(self) -> None:
        while True:
            event_id, offset = self.state.outbox.get()
            try:
                self.deliver(event_id, offset or 0)
            finally:
                self.state.outbox.task_done()

    def deliver(self, event_id: str, offset: int = 0) -> Delivery:
        with self.state.lock:
            event = public(self.state.events[event_id])
            url, secret = self.state.webhook_url, self.state.webhook_secret
        payload = json.dumps(event, indent=2)
        signature = sign_payload(payload, secret, int(time.time()) + offset)
        delivery = Delivery(event_id=event_id, status=None, signature=signature)
        # The URL is checked to be http(s) where it is set (control endpoint, command line).
        outgoing = urllib.request.Request(  # noqa: S310
            url,
            data=payload.encode(),
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Stripe-Signature": signature,
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            },
        )
        try:
            with urllib.request.urlopen(outgoing, timeout=10) as answer:  # noqa: S310
                delivery.status = answer.status
        except urllib.error.HTTPError as error:
            delivery.status = error.code
        except (OSError, ValueError) as error:
            delivery.error = str(error)
        with self.state.lock:
            self.state.deliveries.append(delivery)
        return delivery


def requirements(due: list[str], *, disabled_reason: str | None = None) -> Obj:
    return {
        "alternatives": [],
        "current_deadline": None,
        "currently_due": list(due),
        "disabled_reason": disabled_reason,
        "errors": [],
        "eventually_due": list(due),
        "past_due": list(due),
        "pending_verification": [],
    }


# --- serving ---------------------------------------------------------------------------------


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve(
    host: str = "127.0.0.1", port: int = 0, app: App | None = None, *, quiet: bool = True
) -> tuple[WSGIServer, App]:
    """Bind a threaded server (port 0: a free one); call `serve_forever()` on it."""
    app = app or App()
    handler = _QuietHandler if quiet else WSGIRequestHandler
    server = make_server(host, port, app, server_class=_ThreadingServer, handler_class=handler)
    return server, app
