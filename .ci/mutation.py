"""`make mutation`: mutation testing of the rule engine and the rule modules.

    .venv/bin/python .ci/mutation.py            # everything; ends with `mutants_killed: K/N`
    .venv/bin/python .ci/mutation.py --resume   # after adding tests: run again what survived

mutmut (pinned in the dev extras; configured in pyproject's [tool.mutmut]) mutates every
function of core/rules.py, core/roles.py, suggestions/workflow.py, replies/services.py and
consultations/services.py, and the ``visible_to`` methods of the three models files (the other
model methods are mutated too, by the tool, but not run: MUTANT_GLOBS below). Each mutant runs
the fast rule tests that cover its function (pyproject's test selection, SQLite). It works in a
copy of the project outside the work tree (MUTATION_DIR, default /tmp/deputy-suggestions-mutation),
so no mutants/ directory is left for ruff or git to find.

mutmut mutates functions only, and the rules are mostly *declarations* (``Move(...)`` tables,
``Scope`` objects, ``OPEN_STATUSES``…, evaluated once at import). So a second kind of mutant
follows: .ci/rule_mutants.py deletes one declared rule at a time in the loaded machines (a role
taken off a move, a scope widened to everything, a ``where`` dropped, a source status removed
or added, ``needs_note`` flipped, a check dropped) and runs the same tests. Both kinds count in
the final line.

Equivalent mutants left alive, and why (each cannot change what any user may do or see):

- Fallbacks for a user without a unit or without a deputy record: ``_nothing()``, the
  ``else Q(pk__in=[])`` branches of ``_lead_unit``/``_co_unit``/``_issuing_unit``/
  ``_record_lead_unit``/``_record_deputy``/``_reply_deputy``, and ``getattr(user, "deputy",
  None)`` → ``getattr(user, "deputy")`` in ``_own_suggestion``/``_reply_deputy``/
  ``_record_deputy``/``_not_rated_by``/``_check_own_rating`` (and ``getattr(deputy, "pk",
  None)`` → ``getattr(deputy, "pk")`` in ``_not_rated_by``). A scope function is only asked
  for the roles its move maps it to: HANDLER/HEAD always have a unit (the StaffMember check
  constraint ``unit_staff_have_unit``), DEPUTY always has ``user.deputy`` (``role_of``).
- ``_withdraw_drafts``' ``issuing_unit_id=old_unit`` filter: when a suggestion is reassigned
  no other unit can have an unsigned draft (drafting needs the lead unit and no unsigned
  reply, and each earlier reassignment withdrew the older unit's drafts).
- ``consultation_update``'s ``only_if={"signature__in": [...]}`` and its ``ONLINE → PENDING``
  branch: the ``edit`` move (sources pending, paper) already refuses a confirmed record, and
  confirming raises ``lock_version``, so a form opened before the confirmation is stale anyway.
- ``Machine.add``/``Machine.extend``/``Machine.load_related``/``machine()`` as the apps call
  them run at import, before mutmut switches a mutant on (its workers are forked after the
  import); test_rules_engine.test_a_machine_holds_what_is_added_and_extended kills them on a
  machine of its own.
- ``_flags``' ``output_field=BooleanField()`` → ``None``: the annotation's value is read
  through ``bool()`` either way.
- ``_has_real_body``'s ``reply.body or ""`` → ``or "XXXX"``: the body is a non-null text
  column, never None.
- ``_check_co_opinions``' ``select_related("unit")`` → ``select_related(None)``: the same
  units, one query each instead of a join.
- ``SuggestionQuerySet.visible_to``'s ``narrow=False`` default → ``True``: the same rows in
  the other SQL form (test_rules_visibility checks both forms for every role).
- Event wording and audit labels (``describe_changes`` labels, ``object_label`` of
  ``consultation_edited``): the audit trail's text, not a permission, scope or status check.

Left alive and not equivalent: ``_check_own_number`` without its ``suggestion_id`` filter,
which would also refuse a document number that another suggestion's letter carries. The rule
as written keeps a new version of one reply from reusing an earlier version's number (issue
#8); whether a number must be unique across all of a bureau's letters is the office's
decision about its numbering, not a permission, scope or status check.

Every mutant of a permission, scope or status check that survived a run has a test that kills
it (tests/test_rules_*.py; the run's survivors are listed at the end of its output).
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
# Besides the project's Python packages (found, so that a new app is copied too).
COPY = ["templates", "static", "locale", "tests", "manage.py", "pyproject.toml"]
# The functions that decide who may do what, on which objects, in which status: the engine,
# the roles, every scope, ``where`` and check function of the rule modules, the status guards
# of the editors, and visible_to. (--all-functions: every function of the five modules, letter
# wording, event texts and date arithmetic included; tens of minutes more.)
RULE_FUNCTIONS = {
    "suggestions.workflow": [
        "_nothing", "_lead_unit", "_co_unit", "_own_suggestion", "_check_assign",
        "_check_request_return", "_check_reassign", "_check_reply", "_check_extend",
        "_awaited_opinions", "_check_co_opinion", "may_register", "transition",
    ],
    "replies.services": [
        "_issuing_unit", "_reply_deputy", "_in_handling", "_newer_version", "_newer_sent",
        "_not_rated_by", "_has_real_body", "_check_body", "_check_co_opinions",
        "_check_own_number", "_check_rating", "_check_own_rating", "_withdraw_drafts",
        "reply_update_draft",
    ],
    "consultations.services": [
        "_record_lead_unit", "_record_deputy", "_suggestion_open", "can_log",
        "consultation_update",
    ],
}
VISIBLE_TO = [
    "suggestions.models.xǁSuggestionQuerySetǁvisible_to__mutmut_*",
    "replies.models.xǁReplyQuerySetǁvisible_to__mutmut_*",
    "consultations.models.xǁConsultationQuerySetǁvisible_to__mutmut_*",
]
MUTANT_GLOBS = ["core.rules.*", "core.roles.*", *VISIBLE_TO] + [
    f"{module}.x_{name}__mutmut_*" for module, names in RULE_FUNCTIONS.items() for name in names
]
ALL_FUNCTION_GLOBS = ["core.rules.*", "core.roles.*", "suggestions.workflow.*",
                      "replies.services.*", "consultations.services.*", *VISIBLE_TO]
# A timeout is not counted as a kill: on a busy machine a slow run is not a failing test (run
# `mutmut run NAME` again in MUTATION_DIR for the ones listed).
KILLED = {"killed"}


SITE = """import sys
# Import the project only from the copy: an editable install's finder would fill in the
# modules the copy lacks from the live work tree.
sys.meta_path[:] = [f for f in sys.meta_path if not getattr(f, "__name__", "").startswith("_Editable")]
"""


def environment(work: Path | None = None, *, demo_once: bool = False) -> dict:
    env = dict(os.environ)
    if work is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(work / "_site"),
                                                          os.environ.get("PYTHONPATH")]))
    env.update(DEBUG="0", TESTING="1", DB_CONN_MAX_AGE="0", PYTHONHASHSEED="0")
    # mutmut's runs: the demo loaded once per pytest session (tests/conftest.py demo_once()),
    # about four times faster. Not for the rule mutants: one session runs many of them in turn.
    env.pop("DEMO_ONCE", None)
    if demo_once:
        env["DEMO_ONCE"] = "1"
    env.pop("DATABASE_URL", None)  # SQLite: the fast engine for thousands of runs
    env.pop("REQUIRE_BROWSER", None)
    return env


def packages() -> list[str]:
    return sorted(p.parent.name for p in ROOT.glob("*/__init__.py")
                  if not p.parent.name.startswith("."))


def prepare(work: Path, resume: bool) -> None:
    if work.exists() and not resume:
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "mutants")
    for name in [*packages(), *COPY]:
        source, target = ROOT / name, work / name
        if source.is_dir():
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(source, target, ignore=ignore)
        else:
            shutil.copy2(source, target)
    (work / "_site").mkdir(exist_ok=True)
    (work / "_site" / "sitecustomize.py").write_text(SITE, "utf-8")
    # mutmut copies its source_paths into mutants/ and imports only from there: every package.
    config = work / "pyproject.toml"
    text = re.sub(r"(?m)^source_paths = .*$", "source_paths = " + json.dumps(packages()),
                  config.read_text("utf-8"))
    config.write_text(text, "utf-8")


def mutmut(work: Path, *args: str, capture: bool = False) -> str:
    command = [str(VENV_BIN / "mutmut"), *args]
    result = subprocess.run(command, cwd=work, env=environment(work, demo_once=True), text=True,
                            stdout=subprocess.PIPE if capture else None)
    if result.returncode not in (0,) and not capture:
        print(f"mutmut {' '.join(args)} exited {result.returncode}", file=sys.stderr)
    return result.stdout or ""


def results(work: Path, globs: list[str]) -> dict[str, str]:
    listing = mutmut(work, "results", "--all", "true", capture=True)
    found = {}
    for line in listing.splitlines():
        match = re.match(r"\s*(\S+): (.+)$", line)
        if match and any(fnmatch.fnmatch(match[1], glob) for glob in globs):
            found[match[1]] = match[2]
    return found


def function_mutants(work: Path, max_children: int | None, globs: list[str],
                     rerun: bool = False) -> tuple[int, int, list[str]]:
    extra = ["--max-children", str(max_children)] if max_children else []
    if rerun:  # only what an earlier run left alive, unchecked or timed out (tests changed)
        names = [n for n, status in results(work, globs).items() if status not in KILLED]
        stats = work / "mutants" / "mutmut-stats.json"
        stats.unlink(missing_ok=True)  # new tests: which test covers what is asked again
        if names:
            mutmut(work, "run", *extra, *names)
    else:
        mutmut(work, "run", *extra, *globs)
    listing = mutmut(work, "results", "--all", "true", capture=True)
    killed = total = 0
    survivors = []
    for line in listing.splitlines():
        match = re.match(r"\s*(\S+): (.+)$", line)
        if not match:
            continue
        name, status = match.groups()
        if not any(fnmatch.fnmatch(name, glob) for glob in globs):
            continue
        total += 1
        if status in KILLED:
            killed += 1
        else:
            survivors.append(f"{name}: {status}")
    return killed, total, survivors


def rule_mutants(work: Path, jobs: int) -> tuple[int, int, list[str]]:
    command = [sys.executable, str(ROOT / ".ci" / "rule_mutants.py"), "--jobs", str(jobs)]
    result = subprocess.run(command, cwd=work, env=environment(work), text=True,
                            stdout=subprocess.PIPE)
    print(result.stdout, end="")
    match = re.search(r"^rule_mutants_killed: (\d+)/(\d+)$", result.stdout, re.MULTILINE)
    if not match:
        raise SystemExit("rule_mutants.py printed no result")
    survivors = [line.removeprefix("SURVIVED ") for line in result.stdout.splitlines()
                 if line.startswith("SURVIVED ")]
    return int(match[1]), int(match[2]), survivors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--resume", action="store_true",
                        help="keep an earlier run's results; run again only the mutants it left "
                             "alive (after adding tests)")
    parser.add_argument("--max-children", type=int, default=None)
    parser.add_argument("--only", choices=["functions", "rules"], default=None)
    parser.add_argument("--all-functions", action="store_true",
                        help="mutate every function of the rule modules, not only the checks")
    options = parser.parse_args()
    work = Path(os.environ.get("MUTATION_DIR", "/tmp/deputy-suggestions-mutation"))
    prepare(work, options.resume)
    killed = total = 0
    survivors: list[str] = []
    if options.only != "rules":
        globs = ALL_FUNCTION_GLOBS if options.all_functions else MUTANT_GLOBS
        k, n, s = function_mutants(work, options.max_children, globs, rerun=options.resume)
        print(f"function_mutants_killed: {k}/{n}")
        killed, total, survivors = killed + k, total + n, survivors + s
    if options.only != "functions":
        k, n, s = rule_mutants(work, options.max_children or os.cpu_count() or 2)
        killed, total, survivors = killed + k, total + n, survivors + s
    if survivors:
        print("\nsurviving mutants (see the equivalent ones in .ci/mutation.py's docstring):")
        for line in survivors:
            print("  ", line)
    print(f"mutants_killed: {killed}/{total}")


if __name__ == "__main__":
    main()
