from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RepliesConfig(AppConfig):
    name = "replies"
    verbose_name = _("Replies")

    def ready(self) -> None:
        from . import services, todo  # noqa: F401  (declares this app's moves and to-do groups)
