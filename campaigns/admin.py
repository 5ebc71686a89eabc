"""Staff views of brands and campaigns: read-mostly; every change goes through a service."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django_countries.filters import CountryFilter

from campaigns.models import (
    Brand,
    BrandInvitation,
    BrandMembership,
    Campaign,
    CampaignTerms,
    Collaboration,
)
from campaigns.services import brand_suspend, brand_verify
from campaigns.services.brands import brand_unsuspend
from connect.admin import reason_action


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class BrandMembershipInline(_ReadOnlyInline):
    model = BrandMembership
    fields = ("user", "role", "created_at")
    readonly_fields = fields


class BrandInvitationInline(_ReadOnlyInline):
    model = BrandInvitation
    fields = ("email", "role", "invited_by", "created_at", "accepted_at", "revoked_at")
    readonly_fields = fields


class SuspendForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=gettext_lazy("Kept in the audit log."),
    )


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "country", "verified", "suspended", "created_at")
    list_filter = (
        ("verified_at", admin.EmptyFieldListFilter),
        ("suspended_at", admin.EmptyFieldListFilter),
        ("country", CountryFilter),
    )
    search_fields = ("name", "slug", "website", "memberships__user__email")
    # Verification and suspension change only through the actions (services, audit log).
    readonly_fields = ("slug", "verified_at", "verified_by", "suspended_at", "created_at")
    inlines = [BrandMembershipInline, BrandInvitationInline]
    actions = ["verify_brands", "suspend_brands", "unsuspend_brands"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Brands are created by their owners in the browser, so that they have an owner.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(boolean=True, description=gettext_lazy("verified"), ordering="verified_at")
    def verified(self, brand: Brand) -> bool:
        return brand.is_verified

    @admin.display(boolean=True, description=gettext_lazy("suspended"), ordering="suspended_at")
    def suspended(self, brand: Brand) -> bool:
        return brand.is_suspended

    @admin.action(description=gettext_lazy("Verify selected brands"))
    def verify_brands(self, request: HttpRequest, queryset: QuerySet[Brand]) -> None:
        try:
            for brand in queryset:
                brand_verify(brand=brand, actor=request.user)  # type: ignore[arg-type]
        except PermissionDenied as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        self.message_user(
            request,
            ngettext(
                "%(count)d brand verified; its owners are emailed.",
                "%(count)d brands verified; their owners are emailed.",
                len(queryset),
            )
            % {"count": len(queryset)},
            messages.SUCCESS,
        )

    @admin.action(description=gettext_lazy("Suspend selected brands"))
    def suspend_brands(
        self, request: HttpRequest, queryset: QuerySet[Brand]
    ) -> HttpResponse | None:
        """Ask for a reason first, then suspend: active campaigns pause, nothing publishes."""
        form = SuspendForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            try:
                for brand in queryset:
                    brand_suspend(
                        brand=brand,
                        actor=request.user,  # type: ignore[arg-type]
                        reason=form.cleaned_data["reason"],
                    )
            except PermissionDenied as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return None
            self.message_user(
                request,
                ngettext(
                    "%(count)d brand suspended; its live campaigns are paused.",
                    "%(count)d brands suspended; their live campaigns are paused.",
                    len(queryset),
                )
                % {"count": len(queryset)},
                messages.SUCCESS,
            )
            return None
        return TemplateResponse(
            request,
            "campaigns/brand/admin_suspend.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Suspend brands"),
                "brands": queryset,
                "form": form,
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
                "opts": self.model._meta,
            },
        )

    @admin.action(description=gettext_lazy("Lift the suspension of selected brands"))
    def unsuspend_brands(
        self, request: HttpRequest, queryset: QuerySet[Brand]
    ) -> HttpResponse | None:
        """Ask for a reason, then reinstate: API keys work again; campaigns stay paused."""
        return reason_action(
            self,
            request,
            queryset,
            action="unsuspend_brands",
            title=_("Lift brand suspensions"),
            intro=_(
                "These brands' API keys work again and they may publish. Campaigns paused by "
                "the suspension stay paused until the brand resumes them."
            ),
            submit_label=_("Lift the suspension"),
            apply=lambda brand, reason: brand_unsuspend(
                brand=brand,
                actor=request.user,  # type: ignore[arg-type]
                reason=reason,
            ),
            done=lambda count: (
                ngettext(
                    "%(count)d brand reinstated; its paused campaigns wait for the brand to resume "
                    "them.",
                    "%(count)d brands reinstated; their paused campaigns wait for the brands to "
                    "resume them.",
                    count,
                )
                % {"count": count}
            ),
        )


class CampaignTermsInline(_ReadOnlyInline):
    model = CampaignTerms
    fields = (
        "effective_from",
        "commission_type",
        "commission_percent",
        "commission_fixed_minor",
        "hold_days",
        "attribution_window_days",
        "created_by",
    )
    readonly_fields = fields


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("title", "brand", "status", "currency", "join_mode", "published_at")
    list_filter = ("status", "join_mode", "currency")
    search_fields = ("title", "brand__name")
    list_select_related = ("brand",)
    inlines = [CampaignTermsInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # Campaign edits version their terms and email creators: brands edit in the browser.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Collaboration)
class CollaborationAdmin(admin.ModelAdmin):
    list_display = ("creator", "campaign", "status", "tracking_code", "discount_code")
    list_filter = ("status",)
    search_fields = ("creator__handle", "campaign__title", "tracking_code", "discount_code")
    list_select_related = ("creator", "campaign")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
