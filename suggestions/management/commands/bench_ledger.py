"""Benchmark of one ledger download: ``python manage.py bench_ledger --format xlsx``.

Downloads ``/suggestions/ledger.<format>`` through Django's test client (every middleware, as
a browser would) from the configured database, which should hold volume data
(``manage.py seed_volume --suggestions 100000`` on a scratch database), and prints one
``name: value`` line per figure. The peak resident memory is the whole process's, so measure
one format per run. Like any download it writes one row to the audit log.
"""

from __future__ import annotations

import os
import resource
import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.test import Client


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


class Command(BaseCommand):
    help = "Time one ledger download (rows/s, CPU time, peak memory) against the configured database."

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["xlsx", "csv"], default="xlsx")
        parser.add_argument("--user", default="office", help="who downloads (default: office)")
        parser.add_argument("--query", default="", help="the list's filters, e.g. status=handling")

    def handle(self, *args, user: str, query: str, **options):
        from suggestions.models import Suggestion

        kind = options["format"]
        reader = get_user_model().objects.filter(username=user).first()
        if reader is None:
            raise CommandError(f"No user {user!r}.")
        client = Client()
        client.force_login(reader)
        client.get("/suggestions/")  # the first request loads URLs, templates, translations
        start_rss = _rss_mib()
        started, cpu_started = time.perf_counter(), time.process_time()
        response = client.get(f"/suggestions/ledger.{kind}?{query}")
        if response.status_code != 200:
            raise CommandError(f"The download answered {response.status_code}.")
        first_byte, size, rows = None, 0, 0
        for piece in response.streaming_content:
            first_byte = first_byte or time.perf_counter() - started
            size += len(piece)
            if kind == "csv":
                rows += piece.count(b"\n")
        # (The client closes the response once its content is read, as a WSGI server would.)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        if kind == "csv":
            rows -= 1  # the heading (a title with a line break is quoted: rarely, one more)
        else:
            rows = Suggestion.objects.count() if not query else None
        name = f"ledger_{kind}"
        lines = [
            (f"{name}_rows", rows if rows is not None else "(see the filters)"),
            (f"{name}_seconds", f"{seconds:.1f}"),
            (f"{name}_first_byte_seconds", f"{first_byte or 0:.2f}"),
            (f"{name}_rows_per_second", f"{rows / seconds:.0f}" if rows else "—"),
            (f"{name}_cpu_seconds", f"{cpu:.1f}"),
            (f"{name}_bytes", size),
            (f"{name}_peak_rss_mib", f"{_rss_mib():.0f}"),
            (f"{name}_rss_before_mib", f"{start_rss:.0f}"),
            ("load_average", f"{os.getloadavg()[0]:.1f}"),
        ]
        for key, value in lines:
            self.stdout.write(f"{key}: {value}")
