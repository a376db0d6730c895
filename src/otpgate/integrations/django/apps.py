"""The app configuration: label ``otpgate``; system checks and signals are set up here."""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OtpgateConfig(AppConfig):
    name = "otpgate.integrations.django"
    label = "otpgate"
    verbose_name = _("Two-step verification")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in
        from django.core.signals import setting_changed

        from . import checks, guard, runtime

        checks.register()

        def settings_changed(setting: str, **kwargs: Any) -> None:
            if setting.startswith("OTPGATE_"):
                runtime.reset()

        setting_changed.connect(settings_changed, weak=False, dispatch_uid="otpgate-settings")
        user_logged_in.connect(guard.on_login, dispatch_uid="otpgate-guard-login")
