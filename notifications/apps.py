from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        # The apps below have declared their moves by now (their ready() ran first: they come
        # earlier in INSTALLED_APPS); add the notifications as effects of those moves, so they
        # are written in the move's own transaction.
        from . import hooks

        hooks.install()
