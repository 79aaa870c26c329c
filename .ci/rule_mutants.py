"""Rule-deletion mutants: one declared rule changed at a time, in the loaded rule machines.

mutmut mutates function bodies; the rules themselves are declarations (``Move(...)`` with its
``sources``, ``roles`` → ``Scope``, ``where``, ``needs_note``, ``checks``; ``OPEN_STATUSES``,
``OPEN_FOR_HANDLING``) that run once at import. This script makes each such mutant by
changing the machines after Django has loaded them (a pytest plugin, this same file, applies
the mutant named by RULE_MUTANT at session start), runs the rule tests (pyproject's
``[tool.mutmut] pytest_add_cli_args_test_selection``, stopping at the first failure), and
counts a mutant killed when the tests fail (exit code 1). Any other exit code is an error and
is not counted as killed.

    python .ci/rule_mutants.py [--jobs 2] [--list] [MUTANT_ID ...]

The mutants, for every move of every machine:

- ``role-``: a role taken off the move;       ``role+``: a role given the move (any object);
- ``scope*``: a role's scope widened to everything;
- ``where-``: the move's ``where`` condition dropped;
- ``source-`` / ``source+``: a status taken from / added to the move's sources;
- ``note~``: ``needs_note`` flipped;          ``check-``: one of its checks dropped;
- ``const-``: a status taken from OPEN_STATUSES (consultations) or OPEN_FOR_HANDLING (the
  reply moves' "suggestion in handling" condition).

Equivalent rule mutants: ``Suggestion.unlink:check-:_check_unlink`` only: the effect reads
the link again under the lock (it may have been removed between the check and the delete) and
refuses in the same words, before changing anything. Every other survivor of a run got a test
in tests/test_rules_*.py (the last ones: an extension request without a reason or a later
date, an approval beyond the limits, the office extending while the unit's request awaits its
decision, a link without another suggestion or a kind).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import dataclasses
import os
import subprocess
import sys
import time
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _local_imports_only() -> None:
    """Import the project only from the working directory (the copy under test): an editable
    install's finder would otherwise fill in modules the copy lacks from the live tree."""
    sys.meta_path[:] = [f for f in sys.meta_path
                        if not getattr(f, "__name__", "").startswith("_Editable")]


_local_imports_only()


# --- The pytest plugin side ---

# The machines of the rule modules under test (other apps' machines have tests of their own).
MACHINES = {"Suggestion", "Reply", "Consultation"}

def _load():
    import consultations.services  # noqa: F401  (each app declares its moves on import)
    import replies.services  # noqa: F401
    import suggestions.workflow  # noqa: F401
    from core import rules

    return rules


def _machine_key(mach) -> str:
    return mach.model.__name__


def enumerate_mutants() -> list[str]:
    rules = _load()
    from core.roles import Role

    ids = []
    roles = [r for r in Role if r != Role.NONE]
    for mach in rules.machines():
        if _machine_key(mach) not in MACHINES:
            continue
        statuses = [value for value, _ in mach.model._meta.get_field(mach.status_field).choices]
        for name, move in mach.moves.items():
            base = f"{_machine_key(mach)}.{name}"
            for role, scope in move.roles.items():
                ids.append(f"{base}:role-:{role.value}")
                if scope.name != "everything":
                    ids.append(f"{base}:scope*:{role.value}")
            for role in roles:
                if role not in move.roles:
                    ids.append(f"{base}:role+:{role.value}")
            if move.where is not None:
                ids.append(f"{base}:where-")
            for status in statuses:
                sign = "-" if status in move.sources else "+"
                ids.append(f"{base}:source{sign}:{status}")
            ids.append(f"{base}:note~")
            for each in move.checks:
                ids.append(f"{base}:check-:{each.__name__}")
    from consultations import services as consultation_services
    from replies import services as reply_services

    for status in sorted(consultation_services.OPEN_STATUSES):
        ids.append(f"const-:consultations.services.OPEN_STATUSES:{status}")
    for status in sorted(reply_services.OPEN_FOR_HANDLING):
        ids.append(f"const-:replies.services.OPEN_FOR_HANDLING:{status}")
    return ids


def apply_mutant(mutant: str) -> None:
    rules = _load()
    from core.roles import Role
    from core.rules import EVERYTHING

    if mutant.startswith("const-:"):
        _, dotted, status = mutant.split(":")
        module_name, attribute = dotted.rsplit(".", 1)
        module = sys.modules[module_name]
        value = getattr(module, attribute)
        assert status in value, mutant
        setattr(module, attribute, frozenset(value - {status}))
        return
    target, kind, *rest = mutant.split(":")
    model_name, name = target.split(".", 1)
    mach = next(m for m in rules.machines() if _machine_key(m) == model_name)
    move = mach.moves[name]
    arg = rest[0] if rest else None
    if kind == "role-":
        changes = {"roles": {r: s for r, s in move.roles.items() if r.value != arg}}
    elif kind == "role+":
        changes = {"roles": {**move.roles, Role(arg): EVERYTHING}}
    elif kind == "scope*":
        changes = {"roles": {r: EVERYTHING if r.value == arg else s for r, s in move.roles.items()}}
    elif kind == "where-":
        changes = {"where": None}
    elif kind == "source-":
        changes = {"sources": frozenset(move.sources - {arg})}
    elif kind == "source+":
        changes = {"sources": frozenset(move.sources | {arg})}
    elif kind == "note~":
        changes = {"needs_note": not move.needs_note}
    elif kind == "check-":
        kept = tuple(c for c in move.checks if c.__name__ != arg)
        assert len(kept) == len(move.checks) - 1, mutant
        changes = {"checks": kept}
    else:
        raise ValueError(mutant)
    mach.moves[name] = dataclasses.replace(move, **changes)


def _snapshot():
    import sys as _sys

    rules = _load()
    saved = [(mach, dict(mach.moves)) for mach in rules.machines()]
    constants = {
        (module, name): getattr(_sys.modules[module], name)
        for module, name in [("consultations.services", "OPEN_STATUSES"),
                             ("replies.services", "OPEN_FOR_HANDLING")]
    }
    return saved, constants


def _restore(snapshot) -> None:
    saved, constants = snapshot
    for mach, moves in saved:
        mach.moves.clear()
        mach.moves.update(moves)
    for (module, name), value in constants.items():
        setattr(sys.modules[module], name, value)


_failed = False
CLEAN = "(no-mutant)"


def pytest_runtest_logreport(report):
    global _failed
    if report.failed:
        _failed = True


def pytest_runtestloop(session):
    """With RULE_MUTANTS_FILE: run the collected tests once per mutant listed there, in this
    one process (the test database is made once), stopping a mutant's run at its first
    failure; write ``status seconds mutant`` lines to RULE_MUTANTS_OUT."""
    global _failed
    listing = os.environ.get("RULE_MUTANTS_FILE")
    if not listing:
        return None
    mutants = [line for line in Path(listing).read_text().splitlines() if line]
    out = open(os.environ["RULE_MUTANTS_OUT"], "a", buffering=1)  # noqa: SIM115
    items = session.items
    for mutant in mutants:
        snapshot = _snapshot()
        start = time.monotonic()
        try:
            if mutant != CLEAN:
                apply_mutant(mutant)
            _failed = False
            for index, item in enumerate(items):
                if hasattr(item, "_initrequest"):
                    item._initrequest()  # a fresh fixture request: the item runs again
                # The next item, or the first again: session fixtures (the test database) stay.
                nextitem = items[index + 1] if index + 1 < len(items) else items[0]
                item.ihook.pytest_runtest_protocol(item=item, nextitem=nextitem)
                if _failed:
                    break
        finally:
            session._setupstate.teardown_exact(items[0])
            _restore(snapshot)
        status = "killed" if _failed else "survived"
        out.write(f"{status} {time.monotonic() - start:.0f} {mutant}\n")
    session._setupstate.teardown_exact(None)
    out.close()
    session.testsfailed = 0
    return True


# --- The runner side ---

def test_selection() -> list[str]:
    config = tomllib.loads(Path("pyproject.toml").read_text("utf-8"))
    return config["tool"]["mutmut"]["pytest_add_cli_args_test_selection"]


def run_batch(mutants: list[str], index: int, timeout: int,
              tests: list[str] | None = None) -> list[tuple[str, str, float]]:
    """One pytest process runs the tests for each mutant of the batch in turn."""
    work = Path(os.environ.get("TMPDIR", "/tmp"))
    stem = f"rule-mutants-{os.getpid()}-{index}"
    listing, out = work / f"{stem}.txt", work / f"{stem}.out"
    listing.write_text("\n".join(mutants) + "\n")
    out.write_text("")
    env = dict(os.environ, RULE_MUTANTS_FILE=str(listing), RULE_MUTANTS_OUT=str(out),
               PYTHONPATH=os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])))
    command = [sys.executable, "-m", "pytest", "-q", "-p", "rule_mutants", "-p", "no:randomly",
               "--no-header", *(tests or test_selection())]
    try:
        subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=timeout)
    except subprocess.TimeoutExpired:
        pass
    lines = out.read_text().splitlines()
    listing.unlink()
    out.unlink()
    results = []
    for position, mutant in enumerate(mutants):
        if position < len(lines):
            status, seconds, name = lines[position].split(" ", 2)
            assert name == mutant, (name, mutant)
            results.append((mutant, status, float(seconds)))
        else:
            results.append((mutant, "error: not run (crash or timeout)", 0.0))
    return results


def listing() -> list[str]:
    """The mutant ids, from a Django process of their own."""
    code = ("import django, os, sys; sys.path.insert(0, os.getcwd());"
            f"sys.path.insert(0, {str(HERE)!r}); import rule_mutants;"
            "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings'); django.setup();"
            "print('\\n'.join(rule_mutants.enumerate_mutants()))")
    result = subprocess.run([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                            check=True)
    return [line for line in result.stdout.splitlines() if line]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--timeout", type=int, default=3 * 3600)
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--tests", nargs="+", default=None,
                        help="the tests to run per mutant (default: pyproject's selection)")
    parser.add_argument("mutants", nargs="*")
    options = parser.parse_args()
    mutants = options.mutants or listing()
    if options.list:
        print("\n".join(mutants))
        return
    # The unmutated rules first and last in every batch: they must pass, or every mutant would
    # look killed (the last run shows that running the tests again and again is sound).
    batches = [[CLEAN, *mutants[i::options.jobs], CLEAN] for i in range(options.jobs)]
    with concurrent.futures.ThreadPoolExecutor(options.jobs) as pool:
        results = [r for batch in pool.map(
            lambda ib: run_batch(ib[1], ib[0], options.timeout, options.tests),
            enumerate(batches)) for r in batch]
    clean = [status for mutant, status, _ in results if mutant == CLEAN]
    print(f"clean runs: {', '.join(clean)}", flush=True)
    if any(status != "survived" for status in clean):
        raise SystemExit("the rule tests fail without any mutant: fix them first")
    killed, survivors = 0, []
    for mutant, status, seconds in results:
        if mutant == CLEAN:
            continue
        print(f"{status:>8} {seconds:5.0f}s {mutant}", flush=True)
        if status == "killed":
            killed += 1
        else:
            survivors.append(f"{mutant}: {status}")
    for line in survivors:
        print(f"SURVIVED {line}")
    print(f"rule_mutants_killed: {killed}/{len(mutants)}")


if __name__ == "__main__":
    main()
