"""The brand's integration page: API keys (created, listed, revoked) and how to send orders.

A new key's full text is rendered once, in the response to the POST that created it, and
kept nowhere else (not in the session, not in a message): the page says so, and the
response is marked `no-store` so that the browser does not keep it in its cache either.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from campaigns.api_keys import (
    NAME_MAX_LENGTH,
    brand_api_key_create,
    brand_api_key_list,
    brand_api_key_revoke,
    rate_window,
)
from campaigns.context_processors import set_active_brand
from campaigns.models import Brand, BrandApiKey
from campaigns.views_brand import _brand_context, _user, brand_required
from connect.forms import BootstrapFormMixin, apply_service_errors


class ApiKeyForm(BootstrapFormMixin, forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Key name"),
        max_length=NAME_MAX_LENGTH,
        help_text=gettext_lazy("Where the key will be used, like “Shop backend” or “ERP export”."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style_widgets()


def _render(
    request: HttpRequest,
    brand: Brand,
    *,
    form: ApiKeyForm,
    new_key: str | None = None,
    new_key_object: BrandApiKey | None = None,
) -> HttpResponse:
    context = _brand_context(request, brand, "integration")
    context.update(
        form=form,
        api_keys=brand_api_key_list(brand),
        new_key=new_key,
        new_key_object=new_key_object,
        endpoint=f"{settings.SITE_URL}/api/v1/order-events",
    )
    return render(request, "campaigns/brand/integration.html", context)


@never_cache
@brand_required
def integration(request: HttpRequest, brand: Brand) -> HttpResponse:
    """The brand's keys and the order events API in short."""
    return _render(request, brand, form=ApiKeyForm())


@never_cache
@require_POST
@brand_required
def api_key_create(request: HttpRequest, brand: Brand) -> HttpResponse:
    """Make a key and show its full text on this one response, never again.

    Each user may try `API_KEY_CREATE_RATE_LIMIT` times per window ("10/h"); past it the
    page answers 429 with `Retry-After` and makes nothing."""
    form = ApiKeyForm(request.POST)
    rate = settings.API_KEY_CREATE_RATE_LIMIT
    attempts = rate_window("api-key-create", f"user:{_user(request).pk}", rate)
    if attempts is not None and attempts.exceeded:
        form.add_error(
            None,
            _(
                "You have made too many API keys lately (the limit is %(rate)s). "
                "Try again in %(minutes)s minutes."
            )
            % {"rate": rate, "minutes": max(1, -(-attempts.retry_after // 60))},
        )
        response = _render(request, brand, form=form)
        response.status_code = 429
        response["Retry-After"] = str(attempts.retry_after)
        return response
    if form.is_valid():
        try:
            api_key, full_key = brand_api_key_create(
                brand=brand, actor=_user(request), name=form.cleaned_data["name"]
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            return _render(
                request,
                brand,
                form=ApiKeyForm(),
                new_key=full_key,
                new_key_object=api_key,
            )
    return _render(request, brand, form=form)


@login_required
@require_POST
def api_key_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Revoke one of the brand's keys; another brand's key is a 404, as if it did not exist."""
    api_key = get_object_or_404(
        BrandApiKey.objects.select_related("brand"),
        pk=pk,
        brand__memberships__user=_user(request),
    )
    set_active_brand(request, api_key.brand)
    brand_api_key_revoke(api_key=api_key, actor=_user(request))
    messages.success(
        request,
        _("The key “%(name)s” (%(prefix)s) is revoked: requests with it now fail.")
        % {"name": api_key.name, "prefix": api_key.prefix},
    )
    return redirect("brand:integration")
