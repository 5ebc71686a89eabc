"""Staff views of accounts, creators and the audit log: read-mostly; suspensions change
only through their services (`creator_suspend`, `creator_unsuspend`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from connect.audit import audit_record, user_permissions_snapshot
from connect.models import (
    AuditEntry,
    CreatorProfile,
    CreatorSuspension,
    Niche,
    SocialAccount,
    User,
)
from connect.services import creator_suspend, creator_unsuspend


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("Kept in the audit log."),
    )


def reason_action(
    model_admin: admin.ModelAdmin[Any],
    request: HttpRequest,
    queryset: QuerySet[Any],
    *,
    action: str,
    title: str,
    intro: str,
    submit_label: str,
    apply: Callable[[Any, str], object],
    done: Callable[[int], str],
) -> HttpResponse | None:
    """An admin action that asks for a reason on its own page, then calls `apply(obj,
    reason)` (a service) for each selected object and says `done(count)`."""
    form = ReasonForm(request.POST if "apply" in request.POST else None)
    if form.is_bound and form.is_valid():
        items = list(queryset)
        try:
            for item in items:
                apply(item, form.cleaned_data["reason"])
        except (PermissionDenied, ValidationError) as exc:
            detail = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            model_admin.message_user(request, detail, messages.ERROR)
            return None
        model_admin.message_user(request, done(len(items)), messages.SUCCESS)
        return None
    opts: Any = model_admin.model._meta
    return TemplateResponse(
        request,
        "connect/admin_reason.html",
        {
            **model_admin.admin_site.each_context(request),
            "title": title,
            "intro": intro,
            "items": queryset,
            "action": action,
            "submit_label": submit_label,
            "changelist_url": reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
            "form": form,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "opts": opts,
        },
    )


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ("email",)
    list_display = ("email", "first_name", "last_name", "is_staff", "is_active", "date_joined")
    search_fields = ("email", "first_name", "last_name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name")}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        stored = User.objects.filter(pk=obj.pk).first() if change else None
        obj._audit_before = user_permissions_snapshot(stored) if stored else {}  # type: ignore[attr-defined]
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Record a change of the user's access (active, staff, superuser, groups,
        permissions) in the audit log, once the groups and permissions are saved."""
        super().save_related(request, form, formsets, change)
        user = form.instance
        before = getattr(user, "_audit_before", {})
        after = user_permissions_snapshot(user)
        if change and before != after:
            audit_record(
                actor=request.user if isinstance(request.user, User) else None,
                action="connect.user.access_changed",
                target=user,
                before=before,
                after=after,
            )


class SocialAccountInline(admin.TabularInline):
    model = SocialAccount
    extra = 0
    readonly_fields = ("platform", "handle", "url", "follower_count")

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class CreatorSuspensionInline(admin.TabularInline):
    model = CreatorSuspension
    extra = 0
    can_delete = False
    fields = ("started_at", "started_by", "reason", "ended_at", "ended_by", "end_reason")
    readonly_fields = fields
    ordering = ("-started_at",)

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(CreatorProfile)
class CreatorProfileAdmin(admin.ModelAdmin):
    list_display = (
        "handle",
        "display_name",
        "country",
        "max_followers",
        "suspended",
        "created_at",
    )
    search_fields = ("handle", "display_name", "user__email")
    list_filter = ("country", ("suspended_at", admin.EmptyFieldListFilter), "niches")
    # Suspension changes only through the actions (services, periods, audit log).
    readonly_fields = ("user", "max_followers", "suspended_at", "created_at", "updated_at")
    inlines = [SocialAccountInline, CreatorSuspensionInline]
    actions = ["suspend_creators", "unsuspend_creators"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Profiles are created through onboarding so that every rule applies.
        return False

    @admin.display(boolean=True, description=_("suspended"), ordering="suspended_at")
    def suspended(self, creator: CreatorProfile) -> bool:
        return creator.is_suspended

    @admin.action(description=_("Suspend selected creators"))
    def suspend_creators(
        self, request: HttpRequest, queryset: QuerySet[CreatorProfile]
    ) -> HttpResponse | None:
        """Ask for a reason, then suspend: payouts are held, new orders are not credited."""
        return reason_action(
            self,
            request,
            queryset,
            action="suspend_creators",
            title=gettext("Suspend creators"),
            intro=gettext(
                "Suspended creators keep their data, but their payouts are held and orders "
                "placed while they are suspended are not credited to them, even after staff "
                "lift the suspension."
            ),
            submit_label=gettext("Suspend"),
            apply=lambda creator, reason: creator_suspend(
                creator=creator,
                actor=request.user,  # type: ignore[arg-type]
                reason=reason,
            ),
            done=lambda count: (
                ngettext(
                    "%(count)d creator suspended; their payouts are held.",
                    "%(count)d creators suspended; their payouts are held.",
                    count,
                )
                % {"count": count}
            ),
        )

    @admin.action(description=_("Lift the suspension of selected creators"))
    def unsuspend_creators(
        self, request: HttpRequest, queryset: QuerySet[CreatorProfile]
    ) -> HttpResponse | None:
        """Ask for a reason, then reinstate: new orders are credited, payouts may proceed."""
        return reason_action(
            self,
            request,
            queryset,
            action="unsuspend_creators",
            title=gettext("Lift creator suspensions"),
            intro=gettext(
                "Orders placed from now on are credited to these creators again and their "
                "held payouts may proceed. Orders placed during the suspension stay "
                "uncredited."
            ),
            submit_label=gettext("Lift the suspension"),
            apply=lambda creator, reason: creator_unsuspend(
                creator=creator,
                actor=request.user,  # type: ignore[arg-type]
                reason=reason,
            ),
            done=lambda count: (
                ngettext(
                    "%(count)d creator reinstated.",
                    "%(count)d creators reinstated.",
                    count,
                )
                % {"count": count}
            ),
        )


@admin.register(Niche)
class NicheAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "position")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "action", "actor", "target_type", "target_id")
    list_filter = ("action",)
    search_fields = ("action", "target_id", "actor__email")
    readonly_fields = (
        "created_at",
        "actor",
        "action",
        "target_type",
        "target_id",
        "before",
        "after",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
