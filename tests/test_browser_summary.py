"""The end of a test run says whether the real-browser tests ran, and CI refuses to skip them.

Each case runs pytest in a subprocess on a scratch directory holding a copy of our
tests/conftest.py and a stand-in browser test (no Chromium, no database needed).
"""

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

BROWSER_TESTS = """
import pytest

pytestmark = pytest.mark.browser


@pytest.mark.skipif({skip}, reason="no /usr/bin/chromium")
def test_in_the_browser():
    pass
"""

OTHER_TEST = """
def test_plain():
    pass
"""


def run_pytest(tmp_path, *, skip_browser: bool, require: bool, with_browser_test: bool = True):
    shutil.copy(ROOT / "tests" / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\naddopts = --strict-markers -p no:cacheprovider\n"
        "markers =\n    browser: real-browser tests\n"
    )
    (tmp_path / "test_plain.py").write_text(OTHER_TEST)
    if with_browser_test:
        (tmp_path / "test_fake_browser.py").write_text(BROWSER_TESTS.format(skip=skip_browser))
    env = {k: v for k, v in os.environ.items() if k != "REQUIRE_BROWSER"}
    env.update(
        PYTHONPATH=str(ROOT), DJANGO_SETTINGS_MODULE="config.settings", DEBUG="0", TESTING="1"
    )
    if require:
        env["REQUIRE_BROWSER"] = "1"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "--rootdir", str(tmp_path), str(tmp_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    return result.returncode, lines


def browser_line(lines):
    found = [line for line in lines if line.startswith("browser tests:")]
    assert len(found) == 1, lines
    return found[0]


def test_skipped_browser_tests_are_named_at_the_end_of_the_run(tmp_path):
    code, lines = run_pytest(tmp_path, skip_browser=True, require=False)
    assert code == 0, lines
    assert browser_line(lines) == "browser tests: SKIPPED (no /usr/bin/chromium), 1 not run"
    # Among the closing lines, with pytest's own summary still the last one.
    assert browser_line(lines) in lines[-3:]
    assert lines[-1].startswith("1 passed, 1 skipped in "), lines


def test_browser_tests_that_ran_are_counted(tmp_path):
    code, lines = run_pytest(tmp_path, skip_browser=False, require=True)
    assert code == 0, lines
    assert browser_line(lines) == "browser tests: 1 run"
    assert lines[-1].startswith("2 passed in "), lines


def test_require_browser_turns_the_skip_into_a_failure(tmp_path):
    code, lines = run_pytest(tmp_path, skip_browser=True, require=True)
    assert code == pytest.ExitCode.TESTS_FAILED, lines
    assert browser_line(lines).startswith("browser tests: FAILED, REQUIRE_BROWSER=1")
    assert "no /usr/bin/chromium" in browser_line(lines)
    # The skip happens while setting the test up, so pytest counts it as an error.
    assert lines[-1].startswith("1 passed, 1 error in "), lines


def test_require_browser_fails_a_run_without_browser_tests(tmp_path):
    code, lines = run_pytest(tmp_path, skip_browser=False, require=True, with_browser_test=False)
    assert code == pytest.ExitCode.TESTS_FAILED, lines
    assert "none were collected" in browser_line(lines)


def test_runs_without_browser_tests_say_nothing_about_them(tmp_path):
    code, lines = run_pytest(tmp_path, skip_browser=False, require=False, with_browser_test=False)
    assert code == 0, lines
    assert not any(line.startswith("browser tests:") for line in lines)


def test_ci_requires_the_browser_tests_and_can_run_them():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "apt_install chromium" in ci
    assert "export REQUIRE_BROWSER=1" in ci
    assert ci.index("export REQUIRE_BROWSER=1") < ci.rindex("\nmake test")
    dev = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["dev"]
    assert any(req.startswith("playwright") for req in dev)
