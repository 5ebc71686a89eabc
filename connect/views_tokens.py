"""A creator's personal access tokens page: create, list and revoke them.

A new token's full text is rendered once, in the response to the POST that created it, and
kept nowhere else (not in the session, not in a message); the response is `no-store` so
that the browser does not keep it in its cache either. Both POSTs are CSRF-protected forms.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from connect.forms import BootstrapFormMixin, apply_service_errors
from connect.models import CreatorAccessToken, CreatorProfile, User
from connect.permissions import creator_required
from connect.secret_keys import NAME_MAX_LENGTH
from connect.tokens import (
    MAX_LIVE_TOKENS,
    creator_token_create,
    creator_token_list,
    creator_token_revoke,
)


class TokenForm(BootstrapFormMixin, forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Token name"),
        max_length=NAME_MAX_LENGTH,
        help_text=gettext_lazy("What will use it, like “My spreadsheet” or “Earnings script”."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style_widgets()


def _creator(request: HttpRequest) -> tuple[User, CreatorProfile]:
    user = request.user
    assert isinstance(user, User)  # creator_required let only creators in
    return user, user.creator_profile


def _render(
    request: HttpRequest,
    *,
    form: TokenForm,
    new_token: str | None = None,
    new_token_object: CreatorAccessToken | None = None,
) -> HttpResponse:
    _user, creator = _creator(request)
    context = {
        "form": form,
        "tokens": creator_token_list(creator),
        "new_token": new_token,
        "new_token_object": new_token_object,
        "max_live_tokens": MAX_LIVE_TOKENS,
        "endpoint": f"{settings.SITE_URL}/api/v1/commissions",
    }
    return render(request, "connect/tokens.html", context)


@never_cache
@creator_required
def tokens(request: HttpRequest) -> HttpResponse:
    """The creator's tokens and how to use one."""
    return _render(request, form=TokenForm())


@never_cache
@require_POST
@creator_required
def token_create(request: HttpRequest) -> HttpResponse:
    """Make a token and show its full text on this one response, never again."""
    user, creator = _creator(request)
    form = TokenForm(request.POST)
    if form.is_valid():
        try:
            token, full_token = creator_token_create(
                creator=creator, actor=user, name=form.cleaned_data["name"]
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            return _render(request, form=TokenForm(), new_token=full_token, new_token_object=token)
    return _render(request, form=form)


@require_POST
@creator_required
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Revoke one of the creator's tokens; anyone else's is a 404, as if it did not exist."""
    user, creator = _creator(request)
    token = get_object_or_404(
        CreatorAccessToken.objects.select_related("creator"), pk=pk, creator=creator
    )
    creator_token_revoke(token=token, actor=user)
    messages.success(
        request,
        _("The token “%(name)s” (%(prefix)s) is revoked: requests with it now fail.")
        % {"name": token.name, "prefix": token.prefix},
    )
    return redirect("connect:tokens")
