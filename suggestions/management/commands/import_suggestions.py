"""Import an assignment list (交办清单), as the office's upload page does.

    python manage.py import_suggestions FILE [--dry-run] [--as USERNAME]

Every row is checked first; when any row has a problem, each is named (its row number as the
spreadsheet shows it, the column and the bad value), nothing is written and the command exits
with status 1. ``--dry-run`` checks and reports only. Importing the same file again changes
nothing. The audit trail names ``--as`` (default: the first superuser).
"""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError
from django.utils.translation import gettext as _

from core.roles import is_coordinator
from suggestions import importing


class Command(BaseCommand):
    help = "Import deputies' suggestions from an assignment list (.xlsx or .csv)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="the .xlsx or .csv file")
        parser.add_argument("--dry-run", action="store_true", help="check and report; write nothing")
        parser.add_argument(
            "--as", dest="username", default="",
            help="the congress-office user the import is recorded for (default: first superuser)",
        )

    def handle(self, *args, **options):
        path = Path(options["file"]).expanduser()
        try:
            if refusal := importing.too_large(path.stat().st_size):
                raise CommandError(refusal)  # before reading it into memory
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(_("Cannot read %(path)s: %(reason)s") % {
                "path": path, "reason": error.strerror or error}) from error
        user = None if options["dry_run"] else self.importing_user(options["username"])
        try:
            plan = importing.plan(data, path.name)
        except importing.ImportFileError as error:
            raise CommandError(error.message) from error
        for note in plan.notes:
            self.stdout.write(note)
        if not plan.ok:
            self.report_errors(plan)
        if options["dry_run"]:
            self.stdout.write(_("Dry run, nothing written: would create %(create)d, assign "
                                "%(assign)d; %(unchanged)d unchanged.") % plan.counts)
            return
        try:
            plan = importing.commit(data, path.name, user=user)
        except importing.ImportRefused as refused:
            self.report_errors(refused.plan)
        except importing.ImportConflict as conflict:
            raise CommandError(conflict.message) from conflict
        except IntegrityError as error:
            raise CommandError(_("Some of these numbers were registered at the same time by "
                                 "someone else; nothing was imported.")) from error
        self.stdout.write(_("%(create)d created, %(assign)d assigned, %(unchanged)d unchanged.")
                          % plan.counts)

    def importing_user(self, username: str):
        User = get_user_model()
        if username:
            user = User.objects.filter(username=username).first()
            if user is None:
                raise CommandError(_("No user “%(name)s”.") % {"name": username})
            if not is_coordinator(user):
                raise CommandError(_("“%(name)s” is neither congress office nor a superuser.")
                                   % {"name": username})
            return user
        user = User.objects.filter(is_superuser=True, is_active=True).order_by("pk").first()
        if user is None:
            raise CommandError(_("There is no superuser to record the import for; name a "
                                 "congress-office user with --as."))
        return user

    def report_errors(self, plan: importing.Plan) -> None:
        bad = plan.bad_rows
        for row in bad:
            for problem in row.errors:
                self.stderr.write(_("Row %(line)d: %(problem)s") % {"line": row.line, "problem": problem})
        raise CommandError(
            _("%(count)d of %(total)d rows have problems; nothing was imported.")
            % {"count": len(bad), "total": len(plan.rows)}
        )
