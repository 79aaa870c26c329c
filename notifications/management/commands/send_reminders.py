"""Daily (cron, or a periodic task): reminders of replies and co-handling opinions due soon
(REMINDER_DAYS_BEFORE working days) and overdue, once per item, stage, recipient and due date.
Prints ``sent: N``, the reminders created; also queues failed e-mail/SMS that are due a retry."""

import datetime

from django.core.management.base import BaseCommand

from notifications.reminders import send_reminders
from notifications.tasks import retry_due


class Command(BaseCommand):
    help = "Send due-soon and overdue reminders (in-app, e-mail, SMS); prints 'sent: N'."

    def add_arguments(self, parser):
        parser.add_argument("--date", type=datetime.date.fromisoformat,
                            help="Act as if today were this date (YYYY-MM-DD).")

    def handle(self, *args, date=None, **options):
        sent = send_reminders(date)
        retried = retry_due()
        self.stdout.write(f"sent: {sent}")
        if options["verbosity"] > 1:
            self.stdout.write(f"deliveries queued again: {retried}")
