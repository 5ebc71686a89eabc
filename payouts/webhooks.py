"""Stripe webhooks at /webhooks/stripe/.

1. The signature is checked with the SDK (HMAC-SHA256 of `t.payload` with our endpoint
   secret) and the timestamp with our own window of STRIPE_WEBHOOK_TOLERANCE_SECONDS either
   side of now: the SDK rejects only old timestamps, a future-dated one is just as suspect.
2. The event id goes into `StripeWebhookEvent` in the same transaction as its effects: a
   redelivered event is answered 200 and does nothing; an event whose handling fails rolls
   back, answers 500, and Stripe delivers it again.
3. Handlers never trust the event body or the order of events: they re-fetch the object
   from Stripe and bring our records in line with what it says now.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import stripe
from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from payouts import payout_services
from payouts.payout_accounts import stripe_account_sync
from payouts.stripe_client import stripe_client

logger = logging.getLogger(__name__)


class WebhookRefused(ValueError):
    """The request is not a genuine, current Stripe event."""


def webhook_verify(
    *, payload: bytes, signature_header: str, now: float | None = None
) -> stripe.Event:
    """The event, if the signature is ours and its timestamp within the window either side."""
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        raise WebhookRefused("No webhook secret is configured.")
    tolerance = settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS
    now = time.time() if now is None else now
    timestamps = [
        part.split("=", 1)[1]
        for part in (signature_header or "").split(",")
        if part.strip().startswith("t=")
    ]
    if len(timestamps) != 1 or not timestamps[0].strip().isdigit():
        raise WebhookRefused("The Stripe-Signature header has no timestamp.")
    if abs(now - int(timestamps[0])) > tolerance:
        raise WebhookRefused("The signature's timestamp is outside the tolerance.")
    try:
        event: stripe.Event = stripe.Webhook.construct_event(
            payload.decode("utf-8"), signature_header, secret, tolerance=tolerance
        )
    except (stripe.SignatureVerificationError, ValueError, UnicodeDecodeError) as error:
        raise WebhookRefused(f"Invalid signature or payload: {error}") from error
    return event


def _first_time(event: stripe.Event) -> bool:
    """Record the event id; False if it was already handled (a redelivery)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO payouts_stripewebhookevent (event_id, type, account, received_at, outcome)
            VALUES (%s, %s, %s, now(), '')
            ON CONFLICT (event_id) DO NOTHING
            RETURNING id
            """,
            [event.id, event.type, getattr(event, "account", None) or ""],
        )
        return cursor.fetchone() is not None


def _object_id(event: stripe.Event) -> str:
    return str(event.data.object["id"])


def _account_updated(event: stripe.Event, client: stripe.StripeClient) -> str:
    try:
        account = client.v1.accounts.retrieve(_object_id(event))
    except stripe.InvalidRequestError as error:
        if error.code != "resource_missing":
            raise
        # Closed at Stripe since (a deleted creator's account): nothing left to sync, and a
        # 5xx would only make Stripe send the event again and again.
        return "account gone"
    synced = stripe_account_sync(account=account)
    return "synced" if synced is not None else "unknown account"


def _transfer_reversed(event: stripe.Event, client: stripe.StripeClient) -> str:
    transfer = client.v1.transfers.retrieve(_object_id(event))
    payout = payout_services.payout_apply_transfer_reversal(transfer=transfer)
    return f"payout {payout.pk}" if payout is not None else "unknown transfer"


def _connected_payout(event: stripe.Event, client: stripe.StripeClient) -> str:
    account = getattr(event, "account", None) or ""
    if not account:
        return "platform payout ignored"
    stripe_payout = client.v1.payouts.retrieve(
        _object_id(event), options={"stripe_account": account}
    )
    payout = payout_services.payout_apply_connected_payout(
        stripe_payout=stripe_payout, account_id=account, client=client
    )
    return f"payout {payout.pk} {payout.status}" if payout is not None else "unknown payout"


HANDLERS: dict[str, Callable[[stripe.Event, stripe.StripeClient], str]] = {
    "account.updated": _account_updated,
    "transfer.reversed": _transfer_reversed,
    "payout.paid": _connected_payout,
    "payout.failed": _connected_payout,
    "payout.canceled": _connected_payout,
}


@transaction.atomic
def webhook_event_handle(event: stripe.Event, client: stripe.StripeClient | None = None) -> str:
    """Handle a verified event once; what happened, in a few words."""
    if not _first_time(event):
        return "duplicate"
    handler = HANDLERS.get(event.type)
    outcome = "ignored" if handler is None else handler(event, client or stripe_client())
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE payouts_stripewebhookevent SET outcome = %s WHERE event_id = %s",
            [outcome[:200], event.id],
        )
    return outcome


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    try:
        event = webhook_verify(
            payload=request.body, signature_header=request.headers.get("Stripe-Signature", "")
        )
    except WebhookRefused as error:
        logger.warning("Stripe webhook refused: %s", error)
        return JsonResponse({"error": str(error)}, status=400)
    outcome = webhook_event_handle(event)
    return JsonResponse({"received": True, "outcome": outcome})
