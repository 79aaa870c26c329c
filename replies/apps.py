from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RepliesConfig(AppConfig):
    name = "replies"
    verbose_name = _("Replies")

    def ready(self) -> None:
        from . import services  # noqa: F401  (declares this app's moves to the rule engine)
