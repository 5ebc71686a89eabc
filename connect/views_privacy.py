"""The privacy page: download my data, delete my account. Both are CSRF-protected POSTs."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from connect.forms import BootstrapFormMixin
from connect.models import User
from connect.privacy import user_account_delete, user_data_export


class AccountDeleteForm(BootstrapFormMixin, forms.Form):
    password = forms.CharField(
        label=gettext_lazy("Your password"),
        help_text=gettext_lazy("To confirm that it is you who deletes the account."),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self._style_widgets()

    def clean_password(self) -> str:
        password: str = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise ValidationError(_("This is not your password."), code="wrong_password")
        return password


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # login_required let only signed-in users in
    return user


def _render(request: HttpRequest, form: AccountDeleteForm, status: int = 200) -> HttpResponse:
    return render(request, "connect/privacy.html", {"delete_form": form}, status=status)


@never_cache
@login_required
def privacy(request: HttpRequest) -> HttpResponse:
    """What we keep, a download of it, and the deletion of the account."""
    return _render(request, AccountDeleteForm(user=_user(request)))


@never_cache
@require_POST
@login_required
def data_export(request: HttpRequest) -> StreamingHttpResponse:
    """The user's data as a JSON file, streamed as it is read."""
    chunks = user_data_export(user=_user(request))
    response = StreamingHttpResponse(chunks, content_type="application/json; charset=utf-8")
    filename = f"connect-data-{timezone.now():%Y-%m-%d}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@never_cache
@require_POST
@login_required
def account_delete(request: HttpRequest) -> HttpResponse:
    """Delete the account once the password confirms it, then sign the user out."""
    user = _user(request)
    form = AccountDeleteForm(request.POST, user=user)
    if not form.is_valid():
        return _render(request, form, status=400)
    try:
        user_account_delete(user=user)
    except ValidationError as exc:
        for message in exc.messages:
            form.add_error(None, message)
        return _render(request, form, status=409)
    logout(request)
    messages.success(request, _("Your account is deleted. Thank you for having been with us."))
    return redirect("home")
