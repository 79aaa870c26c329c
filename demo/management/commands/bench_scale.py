"""Scale benchmark: the pages at 10^5 suggestions, in process and under load.

    python manage.py bench_scale [--scale 100000] [--rounds 9] [--load-seconds 20]

Runs against the configured PostgreSQL database (``make bench-scale`` gives it its own,
``suggestions_bench``). Generates the volume data once (``seed_volume``) and reuses it while
it is there at the asked scale. Prints one ``name: value`` line per figure:

- in process (the Django test Client through the real middleware, DEBUG off), the median of
  interleaved rounds: the office's list, a search, a unit's and a deputy's list, a
  suggestion's page, the report by unit, the to-do page of the office and of a unit's staff,
  the dashboard, the public's list of published replies and a search of it, and the Django
  admin's changelist of the same suggestions as the reference
  (``list_vs_admin``);
- the ledger download and the import command (rows per second), when they exist;
- under load: gunicorn (2 workers) on 127.0.0.1 and ``wrk`` for ``--load-seconds`` per target,
  with a session cookie made here; ``/healthz`` is the floor the pages are compared with, and
  is measured again while another wrk loads the list.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import Resolver404, resolve

from demo.management.commands import seed_volume

WRK_SCRIPT = r"""
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) bad = 0 end
function response(status, headers, body) if status ~= 200 then bad = bad + 1 end end
function done(summary, latency, requests)
  local nbad = 0
  for _, t in ipairs(threads) do nbad = nbad + t:get("bad") end
  local e = summary.errors
  io.write(string.format(
    "WRK {\"requests\": %d, \"duration_us\": %d, \"connect\": %d, \"read\": %d, " ..
    "\"write\": %d, \"status\": %d, \"timeout\": %d, \"not_200\": %d, \"p50_us\": %d, " ..
    "\"p95_us\": %d, \"p99_us\": %d}\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout, nbad,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""
SEARCH_WORD = "停车"


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def peak_rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def reset_peak_rss() -> None:
    """Linux ≥ 4.0: writing 5 to clear_refs resets VmHWM to the current RSS."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


class BackendClock:
    """CPU seconds used so far by this connection's PostgreSQL backend (a local server)."""

    def __init__(self):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            self.path = Path(f"/proc/{cursor.fetchone()[0]}/stat")
        self.tick = os.sysconf("SC_CLK_TCK")
        self.available = self.path.exists()

    def seconds(self) -> float:
        if not self.available:
            return 0.0
        fields = self.path.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / self.tick


class ServerClock:
    """CPU seconds used so far by gunicorn's workers and by the PostgreSQL backends serving
    this database (a local server; None where /proc cannot tell)."""

    def __init__(self, master: int):
        self.master = master
        self.tick = os.sysconf("SC_CLK_TCK")

    def _cpu(self, pid: int) -> float:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / self.tick

    def snapshot(self) -> dict[int, float] | None:
        """CPU seconds so far of each worker and backend, by process id."""
        try:
            children = Path(f"/proc/{self.master}/task/{self.master}/children").read_text().split()
        except OSError:
            return None
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()"
            )
            backends = [row[0] for row in cursor.fetchall()]
        found = {}
        for pid in [*map(int, children), *backends]:
            with contextlib.suppress(OSError):
                found[pid] = self._cpu(pid)
        return found

    @staticmethod
    def used(before: dict | None, after: dict | None) -> float | None:
        """CPU seconds used between two snapshots (a backend that started meanwhile counts
        whole; one that ended meanwhile is missed)."""
        if before is None or after is None:
            return None
        return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def url_exists(path: str) -> bool:
    try:
        resolve(path)
    except Resolver404:
        return False
    return True


class Command(BaseCommand):
    help = "Measure list, search, detail, report, admin, ledger, import and load at 10^5 suggestions."

    def add_arguments(self, parser):
        parser.add_argument("--scale", type=int, default=100_000, help="volume suggestions")
        parser.add_argument("--rounds", type=int, default=9, help="interleaved rounds in process")
        parser.add_argument("--load-seconds", type=int, default=20, help="wrk duration per target")
        parser.add_argument("--connections", type=int, default=4, help="wrk connections")
        parser.add_argument("--worker-class", default="gthread", help="gunicorn worker class")
        parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
        parser.add_argument("--no-load", action="store_true", help="skip the load test")
        parser.add_argument("--load-user", choices=["office", "staff"], default="office",
                            help="who loads the list and the suggestion's page (staff: the "
                                 "handler of its lead unit)")
        parser.add_argument("--import-rows", type=int, default=1000, help="rows in the import test")
        parser.add_argument("--force", action="store_true",
                            help="allow writing volume data with DEBUG and TESTING off")
        parser.add_argument("--probe", choices=["ledger"], help=argparse_suppress())

    # --- helpers --------------------------------------------------------------------------------

    def emit(self, name: str, value) -> None:
        if isinstance(value, float):
            value = f"{value:.1f}" if abs(value) >= 1 or value == 0 else f"{value:.2f}"
        self.stdout.write(f"{name}: {value}")
        self.stdout.flush()

    def note(self, text: str) -> None:
        self.stderr.write(text)
        self.stderr.flush()

    def client(self, user):
        from django.test import Client

        client = Client()
        if user is not None:  # None: an anonymous visitor
            client.force_login(user)
        return client

    def get(self, client, url: str) -> None:
        response = client.get(url)
        if response.status_code != 200:
            raise CommandError(f"GET {url} answered {response.status_code}")
        if response.streaming:
            for _piece in response.streaming_content:
                pass
        else:
            _ = response.content

    # --- the run -----------------------------------------------------------------------------

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            raise CommandError("bench_scale measures PostgreSQL: set DATABASE_URL (make bench-scale does).")
        if options["probe"] == "ledger":
            return self.probe_ledger()
        if not seed_volume.allowed_here(options["force"]):
            raise CommandError("Refusing to write volume data with DEBUG and TESTING off; use --force.")
        self.ensure_database()
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = 0")
        scale = options["scale"]
        self.ensure_data(scale)
        targets = self.targets()
        self.emit("scale_suggestions", seed_volume.volume_count())
        self.in_process(targets, options["rounds"])
        self.first_views(targets, options["rounds"])
        self.ledger(targets)
        self.importing(options["import_rows"])
        if options["no_load"]:
            return
        if shutil.which("wrk") is None:
            self.note("wrk is not installed (apt-get install -y wrk): no load figures.")
            return
        self.load(targets, options)

    def ensure_database(self) -> None:
        """Create the configured database when it is missing, and bring it up to date."""
        from django.db.utils import OperationalError

        try:
            connection.ensure_connection()
        except OperationalError as error:
            if "does not exist" not in str(error):
                raise
            name = connection.settings_dict["NAME"]
            with connection._nodb_cursor() as cursor:
                cursor.execute(f"CREATE DATABASE {connection.ops.quote_name(name)}")
            self.note(f"Created the database {name}.")
        call_command("migrate", interactive=False, verbosity=0)

    def ensure_data(self, scale: int) -> None:
        present = seed_volume.volume_count()
        if present == scale:
            self.note(f"Reusing the {present:,} volume suggestions already here.")
            self.ensure_publications()
            return
        if present:
            self.note(f"{present:,} volume suggestions here, {scale:,} wanted: regenerating.")
            seed_volume.delete_volume()
        started = time.perf_counter()
        seed_volume.seed(scale, log=self.note)
        self.emit("seed_s", time.perf_counter() - started)

    def ensure_publications(self) -> None:
        """Volume data made before seed_volume published the sent replies: publish them."""
        from django.db.models import Max, Min

        from publication.models import Publication

        volume = seed_volume.volume_suggestions()
        if Publication.objects.filter(reply__suggestion__in=volume).exists():
            return
        bounds = volume.aggregate(first=Min("pk"), last=Max("pk"))
        seed_volume.publish_sent(bounds["first"], bounds["last"] + 1, log=self.note)
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(Publication._meta.db_table)}")

    def targets(self) -> dict:
        """The users and the suggestion the pages are measured for: the busiest unit and
        deputy (worst case), and a suggestion with a full history."""
        from django.contrib.auth import get_user_model
        from django.db.models import Count, Q

        from suggestions.models import CoHandling, Deputy, StaffMember, Suggestion

        User = get_user_model()
        volume = seed_volume.volume_suggestions()
        units = {row["lead_unit"]: row["n"] for row in
                 volume.exclude(lead_unit=None).values("lead_unit").annotate(n=Count("pk"))}
        for row in (CoHandling.objects.filter(suggestion__in=volume).values("unit")
                    .annotate(n=Count("pk"))):
            units[row["unit"]] = units.get(row["unit"], 0) + row["n"]
        busiest_unit = max(units, key=units.get)
        staff = StaffMember.objects.filter(unit_id=busiest_unit, role=StaffMember.Role.HANDLER,
                                           user__username__startswith=seed_volume.USER_PREFIX).first()
        deputy = (
            Deputy.objects.filter(name__startswith="压测代表", user__isnull=False)
            .annotate(n=Count("led_suggestions", distinct=True)
                      + Count("cosigned_suggestions", distinct=True))
            .order_by("-n").first()
        )
        detail = (
            volume.filter(status="closed", lead_unit_id=busiest_unit)
            .annotate(co=Count("co_handlings", distinct=True), versions=Count("replies", distinct=True))
            .filter(co__gt=0).order_by("-versions", "-co", "pk").first()
        ) or volume.filter(~Q(status="registered")).order_by("pk").first()
        detail_staff = StaffMember.objects.filter(unit_id=detail.lead_unit_id,
                                                  role=StaffMember.Role.HANDLER).first()
        visible_staff = Suggestion.objects.visible_to(staff.user).count()
        visible_deputy = Suggestion.objects.visible_to(deputy.user).count()
        self.note(f"staff: {staff.user.username} ({visible_staff:,} suggestions); deputy: "
                  f"{deputy.user.username} ({visible_deputy:,}); detail: /suggestions/{detail.pk}/")
        return {
            "office": User.objects.get(username=f"{seed_volume.USER_PREFIX}office"),
            "admin": User.objects.get(username=f"{seed_volume.USER_PREFIX}admin"),
            "staff": staff.user, "deputy": deputy.user, "detail": detail,
            "detail_staff": detail_staff.user,
            "staff_rows": visible_staff, "deputy_rows": visible_deputy,
        }

    def in_process(self, targets: dict, rounds: int) -> None:
        office = self.client(targets["office"])
        staff = self.client(targets["staff"])
        pages = {
            "list_ms": (office, "/suggestions/"),
            "list_search_ms": (office, f"/suggestions/?q={SEARCH_WORD}"),
            "staff_list_ms": (staff, "/suggestions/"),
            "deputy_list_ms": (self.client(targets["deputy"]), "/suggestions/"),
            "detail_ms": (office, f"/suggestions/{targets['detail'].pk}/"),
            # The same page for its lead unit's handler (no office-only sections).
            "detail_staff_ms": (self.client(targets["detail_staff"]),
                                f"/suggestions/{targets['detail'].pk}/"),
            "report_ms": (office, "/suggestions/report/"),
            # What awaits the office and the busiest unit's staff (targets ≤ 60 ms), and the
            # office's dashboard (≤ 250 ms).
            "todo_ms": (office, "/todo/"),
            "todo_staff_ms": (staff, "/todo/"),
            "dashboard_ms": (office, "/dashboard/"),
            "dashboard_staff_ms": (staff, "/dashboard/"),
            # The public's published replies (no login): the list and a two-character search.
            "public_list_ms": (self.client(None), "/public/"),
            "public_search_ms": (self.client(None), f"/public/?q={SEARCH_WORD}"),
            "admin_changelist_ms": (self.client(targets["admin"]), "/admin/suggestions/suggestion/"),
        }
        queries = {}
        for name, (client, url) in pages.items():
            self.get(client, url)  # warm-up
            with CaptureQueriesContext(connection) as captured:
                self.get(client, url)
            queries[name] = len(captured)
        samples: dict[str, list[float]] = {name: [] for name in pages}
        cpu: dict[str, list[float]] = {name: [] for name in pages}
        backend = BackendClock()
        for _round in range(rounds):
            for name, (client, url) in pages.items():
                started, used, db_used = time.perf_counter(), time.process_time(), backend.seconds()
                self.get(client, url)
                samples[name].append(time.perf_counter() - started)
                cpu[name].append(time.process_time() - used + backend.seconds() - db_used)
        results = {name: median_ms(values) for name, values in samples.items()}
        for name, value in results.items():
            self.emit(name, value)
        self.emit("list_vs_admin", f"{results['list_ms'] / results['admin_changelist_ms']:.2f}")
        for name, count in queries.items():
            self.emit(name.removesuffix("_ms") + "_queries", count)
        # CPU time (this process and its PostgreSQL backend), the mean over the rounds (the
        # backend's clock ticks every 10 ms): what a page costs on a machine that other work
        # keeps busy too, where the elapsed time also measures the wait for a core.
        if backend.available:
            for name, values in cpu.items():
                self.emit(name.removesuffix("_ms") + "_cpu_ms", statistics.mean(values) * 1000)

    def first_views(self, targets: dict, rounds: int) -> None:
        """The to-do as the first view after a change computes it (``todo_ms`` above is the
        page while nothing changed: its groups are kept until the next event)."""
        from django.core.cache import cache

        for name, user in (("todo_first_view_ms", targets["office"]),
                           ("todo_staff_first_view_ms", targets["staff"])):
            client = self.client(user)
            samples = []
            for _round in range(rounds):
                cache.clear()
                started = time.perf_counter()
                self.get(client, "/todo/")
                samples.append(time.perf_counter() - started)
            self.emit(name, median_ms(samples))

    # --- ledger ---------------------------------------------------------------------------------

    def ledger(self, targets: dict) -> None:
        if not url_exists("/suggestions/ledger.xlsx"):
            self.emit("ledger_rows_per_s", "n/a")
            self.emit("ledger_peak_mib", "n/a")
            self.note("/suggestions/ledger.xlsx does not exist (yet): no ledger figures.")
            return
        # In a fresh process, so that its peak memory is the download's own.
        env = dict(os.environ)
        result = subprocess.run(
            [sys.executable, "manage.py", "bench_scale", "--probe", "ledger"],
            cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=900,
        )
        line = next((x for x in result.stdout.splitlines() if x.startswith("LEDGER ")), None)
        if result.returncode or line is None:
            self.note(result.stderr[-2000:])
            raise CommandError("The ledger probe failed.")
        figures = json.loads(line.removeprefix("LEDGER "))
        self.emit("ledger_rows", figures["rows"])
        self.emit("ledger_s", figures["seconds"])
        self.emit("ledger_rows_per_s", round(figures["rows"] / figures["seconds"]))
        self.emit("ledger_peak_mib", figures["peak_mib"])

    def probe_ledger(self) -> None:
        """Run in a child process: one download of the office's ledger (every suggestion)."""
        from django.contrib.auth import get_user_model

        from suggestions.models import Suggestion

        office = get_user_model().objects.get(username=f"{seed_volume.USER_PREFIX}office")
        client = self.client(office)
        rows = Suggestion.objects.visible_to(office).count()
        self.get(client, "/suggestions/")  # imports, templates, connection: not the ledger's
        reset_peak_rss()
        before = rss_kib()
        started = time.perf_counter()
        response = client.get("/suggestions/ledger.xlsx")
        size = 0
        if response.streaming:
            for piece in response.streaming_content:
                size += len(piece)
        else:
            size = len(response.content)
        seconds = time.perf_counter() - started
        if response.status_code != 200:
            raise CommandError(f"ledger answered {response.status_code}")
        peak = (peak_rss_kib() - before) / 1024
        self.stdout.write("LEDGER " + json.dumps({
            "rows": rows, "seconds": round(seconds, 2), "bytes": size, "peak_mib": round(peak, 1),
        }))

    # --- import ---------------------------------------------------------------------------------

    def importing(self, count: int) -> None:
        if "import_suggestions" not in get_commands():
            self.emit("import_rows_per_s", "n/a")
            self.note("The import_suggestions command does not exist (yet): no import figures.")
            return
        import csv

        from suggestions.models import CongressSession

        session = CongressSession.objects.filter(name__startswith=seed_volume.MARK).order_by("-year").first()
        units = list(seed_volume.UNITS)
        first = 900_001
        with tempfile.TemporaryDirectory(prefix="bench-import-") as directory:
            path = Path(directory) / "import.csv"
            with path.open("w", encoding="utf-8", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(["会议", "建议编号", "标题", "领衔代表", "附议代表", "主要内容",
                                 "主办单位", "交办日期"])
                for offset in range(count):
                    unit = units[offset % len(units)][0]
                    writer.writerow([
                        session.name, first + offset, f"关于导入测试第{offset + 1}号事项的建议",
                        f"压测代表{offset % 500 + 1}", f"压测代表{(offset + 7) % 500 + 1}",
                        "建议有关部门加强统筹协调，制定专项工作方案，明确时间表和路线图。",
                        f"{seed_volume.MARK}{unit}", "2026-03-01",
                    ])
            started = time.perf_counter()
            try:
                with open(os.devnull, "w") as quiet:
                    call_command("import_suggestions", str(path),
                                 username=f"{seed_volume.USER_PREFIX}admin", stdout=quiet)
            finally:
                seconds = time.perf_counter() - started
                self.remove_imported(session, first)
        self.emit("import_rows", count)
        self.emit("import_rows_per_s", round(count / seconds))

    def remove_imported(self, session, first: int) -> None:
        from suggestions.models import Suggestion

        quote = connection.ops.quote_name
        table = quote(Suggestion._meta.db_table)
        with connection.cursor():
            seed_volume.purge(
                Suggestion,
                f"SELECT {quote('id')} FROM {table} WHERE {quote('session_id')} = %s "
                f"AND {quote('number')} >= %s",
                [session.pk, first],
            )

    # --- load -------------------------------------------------------------------------------------

    def session_cookie(self, user) -> str:
        from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
        from django.contrib.sessions.backends.db import SessionStore

        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"

    def load(self, targets: dict, options) -> None:
        import http.client

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        command = [
            sys.executable, "-m", "gunicorn", "config.wsgi", "--workers", "2",
            "--bind", f"127.0.0.1:{port}", "--worker-class", options["worker_class"],
            "--threads", str(options["threads"]), "--log-level", "warning",
            "--timeout", "60",
        ]
        server = subprocess.Popen(command, cwd=settings.BASE_DIR, env=dict(os.environ),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        user = targets["office"] if options["load_user"] == "office" else targets["detail_staff"]
        cookie = self.session_cookie(user)
        base = f"http://127.0.0.1:{port}"
        paths = {
            "healthz": "/healthz",
            "list": "/suggestions/",
            "detail": f"/suggestions/{targets['detail'].pk}/",
        }

        def fetch(path: str) -> int:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            try:
                conn.request("GET", path, headers={"Cookie": cookie})
                response = conn.getresponse()
                response.read()
                return response.status
            finally:
                conn.close()

        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if fetch("/healthz") == 200:
                        break
                except OSError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    raise CommandError("gunicorn did not start: " + (server.stderr.read() or "")[-2000:])
                time.sleep(0.3)
            for path in paths.values():
                for _ in range(4):  # both workers warm: imports, templates, connections
                    try:
                        status = fetch(path)
                    except OSError as error:
                        raise CommandError(f"GET {path} under gunicorn: {error}") from None
                    if status != 200:
                        raise CommandError(f"GET {path} under gunicorn answered {status}")
            with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
                script.write(WRK_SCRIPT)
            seconds, connections = options["load_seconds"], options["connections"]
            self.note(f"Load: gunicorn --workers 2 --worker-class {options['worker_class']} "
                      f"--threads {options['threads']}; wrk -c{connections} -d{seconds}s per target, "
                      f"as {user.username}.")
            runs = {}
            clock = ServerClock(server.pid)
            for name, path in paths.items():
                before = clock.snapshot()
                runs[name] = self.wrk(script.name, base + path, cookie, seconds, connections)
                runs[name]["server_cpu_s"] = clock.used(before, clock.snapshot())
            # /healthz while another wrk loads the list.
            list_run = subprocess.Popen(
                self.wrk_command(script.name, base + paths["list"], cookie, seconds, connections),
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )
            time.sleep(0.5)
            healthz_under_load = self.wrk(script.name, base + paths["healthz"], cookie,
                                          max(seconds - 1, 1), 1)
            out, _err = list_run.communicate(timeout=seconds + 60)
            list_during = self.parse_wrk(out)
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
            with contextlib.suppress(NameError, OSError):
                os.unlink(script.name)

        def rps(run: dict) -> float:
            return run["requests"] / (run["duration_us"] / 1e6)

        def errors(run: dict) -> int:
            return sum(run[k] for k in ("connect", "read", "write", "status", "timeout", "not_200"))

        floor, listing, detail = rps(runs["healthz"]), rps(runs["list"]), rps(runs["detail"])
        self.emit("load_floor_rps", floor)
        self.emit("load_list_rps", listing)
        self.emit("load_detail_rps", detail)
        self.emit("load_list_p95_ms", runs["list"]["p95_us"] / 1000)
        self.emit("load_detail_p95_ms", runs["detail"]["p95_us"] / 1000)
        self.emit("load_p95_ms", max(runs["list"]["p95_us"], runs["detail"]["p95_us"]) / 1000)
        every_run = [*runs.values(), healthz_under_load, list_during]
        self.emit("load_errors", sum(errors(run) for run in every_run))
        self.emit("load_list_vs_floor", f"{listing / floor:.2f}")
        self.emit("load_detail_vs_floor", f"{detail / floor:.2f}")
        self.emit("healthz_p95_under_load_ms", healthz_under_load["p95_us"] / 1000)
        self.emit("load_list_rps_during_healthz", rps(list_during))
        # CPU per request of the gunicorn workers and their PostgreSQL backends: what the
        # throughputs above come to on a machine with nothing else to do.
        if all(run.get("server_cpu_s") is not None for run in runs.values()):
            cost = {name: run["server_cpu_s"] / max(run["requests"], 1) for name, run in runs.items()}
            for name, value in cost.items():
                self.emit(f"load_{name}_cpu_ms_per_request", value * 1000)
            self.emit("load_list_vs_floor_by_cpu", f"{cost['healthz'] / cost['list']:.2f}")
            self.emit("load_detail_vs_floor_by_cpu", f"{cost['healthz'] / cost['detail']:.2f}")

    def wrk_command(self, script: str, url: str, cookie: str, seconds: int, connections: int) -> list:
        return ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s",
                "--timeout", "10s", "-s", script, "-H", f"Cookie: {cookie}", url]

    def wrk(self, script: str, url: str, cookie: str, seconds: int, connections: int) -> dict:
        result = subprocess.run(self.wrk_command(script, url, cookie, seconds, connections),
                                capture_output=True, text=True, timeout=seconds + 60)
        return self.parse_wrk(result.stdout)

    def parse_wrk(self, output: str) -> dict:
        line = next((x for x in output.splitlines() if x.startswith("WRK ")), None)
        if line is None:
            raise CommandError("wrk printed no summary:\n" + output[-2000:])
        return json.loads(line.removeprefix("WRK "))


def argparse_suppress():
    import argparse

    return argparse.SUPPRESS
