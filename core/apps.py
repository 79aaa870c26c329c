from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from . import calendar, checks  # noqa: F401  (the calendar's signals, the system checks)

        # After every migrate the working calendar holds what the installed package knows.
        post_migrate.connect(calendar.sync_after_migrate, sender=self,
                             dispatch_uid="core.calendar.sync_after_migrate")
