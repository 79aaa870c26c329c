import logging

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DocumentsConfig(AppConfig):
    name = "documents"
    verbose_name = _("Documents")

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)

        # WeasyPrint logs every step of every document at INFO (the project's level): noise.
        progress = logging.getLogger("weasyprint.progress")
        if progress.level == logging.NOTSET:
            progress.setLevel(logging.WARNING)
