"""Emails to users, rendered in the recipient's language and sent once the change commits."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation

from connect.models import User


def notify(*, users: Iterable[User], template: str, context: dict[str, Any] | None = None) -> None:
    """Send `templates/emails/<template>_subject.txt` and `_body.txt` to each user after commit.

    Rendering waits for the commit too, so a rolled-back change sends nothing.
    """
    recipients = [(user.email, user.preferred_language) for user in users if user.email]
    data = {"site_url": settings.SITE_URL, **(context or {})}

    def send() -> None:
        for email, language in recipients:
            with translation.override(language or settings.LANGUAGE_CODE):
                subject = render_to_string(f"emails/{template}_subject.txt", data).strip()
                body = render_to_string(f"emails/{template}_body.txt", data)
            send_mail(
                f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{subject}",
                body,
                settings.DEFAULT_FROM_EMAIL,
                [email],
            )

    transaction.on_commit(send)


def notify_emails(*, emails: Iterable[str], template: str, context: dict[str, Any]) -> None:
    """Like `notify`, for addresses that may not belong to a user yet (team invitations)."""
    addresses = list(emails)
    data = {"site_url": settings.SITE_URL, **context}

    def send() -> None:
        for email in addresses:
            subject = render_to_string(f"emails/{template}_subject.txt", data).strip()
            body = render_to_string(f"emails/{template}_body.txt", data)
            send_mail(
                f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{subject}",
                body,
                settings.DEFAULT_FROM_EMAIL,
                [email],
            )

    transaction.on_commit(send)
