"""Admin pages for the factors. They never show a secret: numbers are masked, the sealed
TOTP secret and the recovery code digests are not displayed at all. Rows are read-only;
the actions reset the factors of the owners (``reset_second_factors`` also fits a UserAdmin);
on phone numbers, another lifts the SMS pumping guard's block of their ranges.
Remembered devices show no digest either; deleting one makes it ask for a code again.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from otpgate.core.phone import parse_phone
from otpgate.core.pumping import prefix_label

from . import runtime
from .models import (
    RecoveryCode,
    RememberedDevice,
    TotpDevice,
    VerifiedEmail,
    VerifiedPhone,
    WebAuthnCredential,
)

USER_SEARCH = f"user__{get_user_model().USERNAME_FIELD}"


def _reset_users(modeladmin: admin.ModelAdmin[Any], request: HttpRequest, users: list[Any]) -> None:
    gate = runtime.get_verifier()
    for user in users:
        gate.reset(str(user.pk))  # each removal sends factor_removed
    count = len(users)
    message = ngettext(
        "The second factors of %(count)d user were reset.",
        "The second factors of %(count)d users were reset.",
        count,
    ) % {"count": count}
    modeladmin.message_user(request, message, messages.SUCCESS)


@admin.action(description=_("Reset the second factors of the selected users"))
def reset_second_factors(
    modeladmin: admin.ModelAdmin[Any], request: HttpRequest, queryset: QuerySet[Any]
) -> None:
    """For a ``UserAdmin``: ``actions = [reset_second_factors]``."""
    _reset_users(modeladmin, request, list(queryset))


@admin.action(description=_("Reset all second factors of these users"))
def reset_owners(
    modeladmin: admin.ModelAdmin[Any], request: HttpRequest, queryset: QuerySet[Any]
) -> None:
    owners = {row.user_id: row.user for row in queryset.select_related("user")}
    _reset_users(modeladmin, request, list(owners.values()))


class _ReadOnly(admin.ModelAdmin):  # type: ignore[type-arg]
    actions: tuple[Any, ...] = (reset_owners,)
    list_select_related = ("user",)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.action(description=_("Lift the SMS pumping blocks of these numbers' ranges"))
def lift_pumping_blocks(
    modeladmin: admin.ModelAdmin[Any], request: HttpRequest, queryset: QuerySet[Any]
) -> None:
    """The pumping guard blocked the range (or country) of a number a user needs: lift it.
    The message names the ranges lifted and those still blocked (never a number)."""
    gate = runtime.get_verifier()
    digits = gate.settings.pumping_prefix_digits
    lifted: set[str] = set()
    for row in queryset:
        number = parse_phone(row.e164, gate.settings)
        for label in (
            prefix_label(number.e164, number.calling_code, digits),
            f"+{number.calling_code}",
        ):
            if gate.lift_pumping_block(label):
                lifted.add(label)
    still = sorted(block.label for block in gate.pumping_blocks())
    message = _("Lifted: %(lifted)s. Still blocked: %(still)s.") % {
        "lifted": ", ".join(sorted(lifted)) or "-",
        "still": ", ".join(still) or "-",
    }
    modeladmin.message_user(request, message, messages.SUCCESS if lifted else messages.INFO)


@admin.register(VerifiedPhone)
class VerifiedPhoneAdmin(_ReadOnly):
    actions = (reset_owners, lift_pumping_blocks)
    list_display = ("user", "masked_number", "created_at")
    fields = ("user", "masked_number", "created_at")
    readonly_fields = fields
    search_fields = (USER_SEARCH,)

    @admin.display(description=_("phone number"))
    def masked_number(self, row: VerifiedPhone) -> str:
        return row.masked


@admin.register(VerifiedEmail)
class VerifiedEmailAdmin(_ReadOnly):
    list_display = ("user", "masked_address", "created_at")
    fields = ("user", "masked_address", "created_at")
    readonly_fields = fields
    search_fields = (USER_SEARCH,)

    @admin.display(description=_("email address"))
    def masked_address(self, row: VerifiedEmail) -> str:
        return row.masked


@admin.register(TotpDevice)
class TotpDeviceAdmin(_ReadOnly):
    list_display = ("user", "confirmed", "set_up")
    fields = ("user", "confirmed", "set_up")
    readonly_fields = fields
    list_filter = ("confirmed",)
    search_fields = (USER_SEARCH,)

    @admin.display(description=_("set up"))
    def set_up(self, row: TotpDevice) -> datetime:
        return datetime.fromtimestamp(row.created_ts, tz=timezone.utc)


@admin.register(RecoveryCode)
class RecoveryCodeAdmin(_ReadOnly):
    list_display = ("user", "created_at", "used_at")
    fields = ("user", "created_at", "used_at")
    readonly_fields = fields
    list_filter = ("used_at",)
    search_fields = (USER_SEARCH,)


@admin.register(RememberedDevice)
class RememberedDeviceAdmin(_ReadOnly):
    list_display = ("user", "label", "place", "first_seen", "last_seen")
    fields = ("user", "label", "place", "first_seen", "last_seen", "expires")
    readonly_fields = fields
    search_fields = (USER_SEARCH,)

    @admin.display(description=_("first seen"))
    def first_seen(self, row: RememberedDevice) -> datetime:
        return datetime.fromtimestamp(row.created_ts, tz=timezone.utc)

    @admin.display(description=_("last seen"))
    def last_seen(self, row: RememberedDevice) -> datetime:
        return datetime.fromtimestamp(row.last_seen_ts, tz=timezone.utc)

    @admin.display(description=_("expires"))
    def expires(self, row: RememberedDevice) -> datetime:
        return datetime.fromtimestamp(row.expires_ts, tz=timezone.utc)


@admin.register(WebAuthnCredential)
class WebAuthnCredentialAdmin(_ReadOnly):
    """Passkeys: name, dates, counter and sync state (the public key is not shown)."""

    list_display = ("user", "name", "added", "last_used", "backup_state")
    fields = ("user", "name", "added", "last_used", "sign_count", "backup_state")
    readonly_fields = fields
    search_fields = (USER_SEARCH,)

    @admin.display(description=_("added"))
    def added(self, row: WebAuthnCredential) -> datetime:
        return datetime.fromtimestamp(row.created_ts, tz=timezone.utc)

    @admin.display(description=_("last used"))
    def last_used(self, row: WebAuthnCredential) -> datetime | None:
        used = row.last_used_ts
        return None if used is None else datetime.fromtimestamp(used, tz=timezone.utc)
