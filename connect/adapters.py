from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.forms import Form
from django.http import HttpRequest
from django.utils import translation

from connect.models import User


class AccountAdapter(DefaultAccountAdapter):
    """Remembers the language a user signed up in, for the emails we send them later."""

    def save_user(self, request: HttpRequest, user: Any, form: Form, commit: bool = True) -> User:
        user.preferred_language = translation.get_language() or ""
        saved: User = super().save_user(request, user, form, commit=commit)
        return saved
