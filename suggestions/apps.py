from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SuggestionsConfig(AppConfig):
    name = "suggestions"
    verbose_name = _("Suggestions")

    def ready(self) -> None:
        from . import todo, workflow  # noqa: F401  (declares this app's moves and to-do groups)
