"""The Django app: ``INSTALLED_APPS = [..., "session_ext.django"]``."""

from __future__ import annotations

from django.apps import AppConfig
from django.core.signals import setting_changed


class SessionExtConfig(AppConfig):
    """Reads ``settings.SESSION_EXT`` when Django starts: builds the engines,
    registers the system checks, and re-reads the settings when a test
    overrides them."""

    name = "session_ext.django"
    label = "session_ext"
    verbose_name = "session_ext"
    default = True

    def ready(self) -> None:
        from . import checks
        from .model import Model  # noqa: F401 - db.Model's registry joins the state
        from .state import registry

        registry.configure()
        checks.register()
        setting_changed.connect(registry.settings_changed,
                                dispatch_uid="session_ext.settings_changed")
