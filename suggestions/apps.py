from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SuggestionsConfig(AppConfig):
    name = "suggestions"
    verbose_name = _("Suggestions")

    def ready(self) -> None:
        # The app's moves and to-do groups; links: link/unlink moves; search: its upkeep.
        from . import links, search, todo, workflow  # noqa: F401
