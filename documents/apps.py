import logging

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DocumentsConfig(AppConfig):
    name = "documents"
    verbose_name = _("Documents")

    def ready(self) -> None:
        from core import rules
        from replies.models import Reply

        from . import checks, letters  # noqa: F401  (registers the system checks)

        # The letter is rendered once at sign-off and kept as signed: an effect of the reply's
        # "sign" move, after the code and fingerprint are set (replies declared it: its
        # ready() ran first).
        rules.machine(Reply).extend("sign", effects=[letters.store_signed_letter])

        # WeasyPrint logs every step of every document at INFO (the project's level): noise.
        progress = logging.getLogger("weasyprint.progress")
        if progress.level == logging.NOTSET:
            progress.setLevel(logging.WARNING)
