import os
import shutil

import pytest


def record_data(deputy, **overrides) -> dict:
    """The consultation form's fields, as a browser posts them."""
    data = {
        "deputy": deputy.pk, "method": "face", "held_on": "2026-11-20", "place": "市工信局会议室",
        "attendees": "延娜", "attendee_phone": "2218762", "reply_points": "拟协调金融机构对接。",
        "proposed_category": "B", "deputy_opinion": "", "satisfaction": "", "signature": "pending",
        "signed_name": "",
    }
    data.update(overrides)
    return data


def demo_once() -> bool:
    """make mutation runs the rule tests once per mutant, each run a pytest session of its
    own, and loading the demo is most of a rule test's time. With DEMO_ONCE=1 (.ci/mutation.py
    sets it for mutmut) the demo is loaded into the test database once per session, with the
    mutant already in place, and each test's transaction (rolled back) starts from it. Not
    while mutmut records which tests run which functions (every test loads the demo then, so
    each is tied to the functions the demo runs). Only for selections where every test asks
    for the demo: any other test would find it there too."""
    return os.environ.get("DEMO_ONCE") == "1" and os.environ.get("MUTANT_UNDER_TEST") != "stats"


@pytest.fixture(scope="session")
def demo_media(tmp_path_factory):
    return tmp_path_factory.mktemp("demo-media")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker, demo_media):
    if demo_once():
        from django.test import override_settings

        from demo.seed import load_demo

        with django_db_blocker.unblock(), override_settings(
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
            MEDIA_ROOT=demo_media,
        ):
            load_demo()


@pytest.fixture
def demo(db):
    """The demo data: the seed case No. 120 and users for every role."""
    from demo.seed import load_demo

    if not demo_once():
        load_demo()
    from suggestions.models import Suggestion

    return Suggestion.objects.get(number=120)


@pytest.fixture
def login(client):
    """login("staff") logs the test client in as a demo user and returns it."""
    from django.contrib.auth import get_user_model

    def _login(username: str):
        client.force_login(get_user_model().objects.get(username=username))
        return client

    return _login


@pytest.fixture
def user(db):
    from django.contrib.auth import get_user_model

    return lambda username: get_user_model().objects.get(username=username)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The demo creates a dozen users; the production hasher is deliberately slow.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path_factory, demo_media):
    # Signing a reply stores its letter in the default storage (under MEDIA_ROOT): in tests,
    # a directory of the test's own, never the working tree's media/. A test may set its own.
    # (With DEMO_ONCE, the directory the demo's signed letter was stored in.)
    settings.MEDIA_ROOT = demo_media if demo_once() else tmp_path_factory.mktemp("media")


@pytest.fixture(autouse=True)
def clear_cache():
    # Login throttling counts live in the cache; no test may inherit another's failures.
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()



# --- Real-browser tests: say whether they ran -------------------------------------------------
# The browser tests (marker `browser`, tests/test_browser.py) skip themselves when Debian's
# Chromium is missing. A quiet skip would let a run look complete without them, so the end of
# every run says what became of them ("browser tests: 4 run" / "browser tests: SKIPPED (...)"),
# just above pytest's own closing line. REQUIRE_BROWSER=1 (set by .ci/run) turns such a skip
# into a failure, and fails a run that collected no browser test at all.

_browser_outcomes: dict[str, str] = {}  # nodeid -> "passed" / "failed" / "skipped"
_browser_skip_reasons: list[str] = []


def browser_required() -> bool:
    return os.environ.get("REQUIRE_BROWSER", "").strip().lower() in {"1", "true", "yes", "on"}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if (item.get_closest_marker("browser") and browser_required() and report.skipped
            and not hasattr(report, "wasxfail")):
        report.outcome = "failed"
        report.longrepr = f"{REQUIRED_BUT_SKIPPED}{_skip_reason(report)}"
    return report


REQUIRED_BUT_SKIPPED = "REQUIRE_BROWSER=1, but this browser test was skipped: "


def _skip_reason(report) -> str:
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    return reason.removeprefix("Skipped: ")


def pytest_runtest_logreport(report):
    # Counted where the reports arrive: in the one process, or in pytest-xdist's controller.
    if "browser" not in report.keywords:
        return
    reason = ""
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = _skip_reason(report)
        _browser_outcomes.setdefault(report.nodeid, "skipped")
    elif report.failed:
        if isinstance(report.longrepr, str) and report.longrepr.startswith(REQUIRED_BUT_SKIPPED):
            reason = report.longrepr.removeprefix(REQUIRED_BUT_SKIPPED)
        _browser_outcomes[report.nodeid] = "failed"
    elif report.when == "call":
        _browser_outcomes.setdefault(report.nodeid, "passed")
    if reason and reason not in _browser_skip_reasons:
        _browser_skip_reasons.append(reason)


def browser_summary() -> str | None:
    """The closing line on the browser tests; None when the run selected none and none were
    required."""
    outcomes = list(_browser_outcomes.values())
    skipped = outcomes.count("skipped")
    failed = outcomes.count("failed")
    ran = outcomes.count("passed") + failed
    reasons = "; ".join(_browser_skip_reasons)
    if browser_required() and (_browser_skip_reasons or not outcomes):
        why = reasons or "none were collected"
        return f"browser tests: FAILED, REQUIRE_BROWSER=1 but they did not run ({why})"
    if skipped and not ran:
        return f"browser tests: SKIPPED ({reasons}), {skipped} not run"
    if skipped:
        return f"browser tests: {ran} run, {skipped} SKIPPED ({reasons})"
    if ran:
        return f"browser tests: {ran} run" + (f", {failed} failed" if failed else "")
    return None


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    line = browser_summary()
    if line is not None:
        ok, skipped = line.endswith(" run"), "SKIPPED" in line
        terminalreporter.write_line(line, bold=True, green=ok, yellow=skipped,
                                    red=not ok and not skipped)


def pytest_sessionfinish(session, exitstatus):
    # REQUIRE_BROWSER=1 and not one browser test collected (deselected, file gone): fail the run.
    # Under pytest-xdist only the controller decides: a worker may simply have got none.
    if hasattr(session.config, "workerinput"):
        return
    if browser_required() and not _browser_outcomes and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


# --- Real-browser tests (tests/test_browser.py, tests/test_journey.py) ---

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def release_live_server_connections(django_db_blocker):
    """The live server answers each request in a thread of its own; a thread still parked on a
    keep-alive socket keeps its database session, which would block dropping the test
    database at the end of the run. End those sessions once the run is done (not after each
    module: the live server lives for the whole session, and its next requests need them)."""
    yield
    from django.db import connection

    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )


@pytest.fixture
def browser(monkeypatch):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls made by the test
    # itself are still synchronous and safe.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        yield browser
        browser.close()


@pytest.fixture
def seeded(transactional_db, settings):
    """The demo data, committed, for a live server's threads to see."""
    from demo.seed import load_demo

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    load_demo()
