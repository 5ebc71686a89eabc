"""Who may see what: role checks shared by views of every app."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from allauth.account.decorators import verified_email_required
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from connect.models import User

View = Callable[..., HttpResponse]


def creator_required(view: View) -> View:
    """A page for creators: signed in, email verified, onboarding done.

    Unverified users get allauth's "verify your email" page (which re-sends the link);
    verified users without a profile are sent to onboarding.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not hasattr(request.user, "creator_profile"):
            return redirect("connect:onboarding")
        return view(request, *args, **kwargs)

    return verified_email_required(wrapper)


def can_browse_creator_directory(user: User) -> bool:
    """Staff, and members of a brand (they look for creators to invite to campaigns)."""
    if not (user.is_authenticated and user.is_active):
        return False
    return user.is_staff or user.brand_memberships.exists()


def directory_access_required(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not can_browse_creator_directory(request.user):  # type: ignore[arg-type]
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return login_required(wrapper)
