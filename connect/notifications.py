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


def _send_after_commit(
    recipients: list[tuple[str, str]], template: str, context: dict[str, Any]
) -> None:
    """Render `templates/emails/<template>_subject.txt` and `_body.txt` for each (address,
    language) and send them once the surrounding transaction commits; a rolled-back change
    sends nothing."""
    data = {"site_url": settings.SITE_URL, **context}

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


def notify(*, users: Iterable[User], template: str, context: dict[str, Any] | None = None) -> None:
    """Email each user in the language they chose."""
    recipients = [(user.email, user.preferred_language) for user in users if user.email]
    _send_after_commit(recipients, template, context or {})


def notify_emails(*, emails: Iterable[str], template: str, context: dict[str, Any]) -> None:
    """Like `notify`, for addresses that may not belong to a user yet (team invitations):
    written in the language of the request that sends them."""
    language = translation.get_language() or ""
    _send_after_commit([(email, language) for email in emails], template, context)
