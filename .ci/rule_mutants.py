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

Equivalent rule mutants (cannot change any outcome; listed by the run if they survive):

- ``check-`` of ``_check_own_rating`` on ``rate``: the view passes the user's own deputy, and
  a deputy rating for another deputy is also refused by ... nothing else — so it is NOT
  equivalent and a test kills it (test_rules_conditions.test_rating_checks).
- ``role+`` of HANDLER/HEAD on ``confirm``/``rate`` is refused by the move's effects/checks
  only where they read ``user.deputy``; tests kill these by asserting "not allowed".
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


# --- The pytest plugin side ---

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


def pytest_sessionstart(session):
    mutant = os.environ.get("RULE_MUTANT", "")
    if mutant:
        apply_mutant(mutant)


# --- The runner side ---

def test_selection() -> list[str]:
    config = tomllib.loads(Path("pyproject.toml").read_text("utf-8"))
    return config["tool"]["mutmut"]["pytest_add_cli_args_test_selection"]


def run_one(mutant: str, timeout: int) -> tuple[str, str, float]:
    env = dict(os.environ, RULE_MUTANT=mutant,
               PYTHONPATH=os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])))
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "rule_mutants",
               "-p", "no:randomly", "--no-header", "-o", "console_output_style=classic",
               *test_selection()]
    start = time.monotonic()
    try:
        result = subprocess.run(command, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return mutant, "timeout", time.monotonic() - start
    status = {0: "survived", 1: "killed"}.get(result.returncode, f"error {result.returncode}")
    if status.startswith("error"):
        status += ": " + result.stdout.strip().splitlines()[-1][:200] if result.stdout.strip() else ""
    return mutant, status, time.monotonic() - start


def listing() -> list[str]:
    """The mutant ids, from a Django process of their own."""
    code = ("import django, os, sys; sys.path.insert(0, os.getcwd());"
            "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings'); django.setup();"
            f"sys.path.insert(0, {str(HERE)!r}); import rule_mutants;"
            "print('\\n'.join(rule_mutants.enumerate_mutants()))")
    result = subprocess.run([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                            check=True)
    return [line for line in result.stdout.splitlines() if line]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--timeout", type=int, default=900)
    parser.add_argument("--list", action="store_true")
    parser.add_argument("mutants", nargs="*")
    options = parser.parse_args()
    mutants = options.mutants or listing()
    if options.list:
        print("\n".join(mutants))
        return
    # The unmutated rules must pass, or every mutant would look killed.
    _, clean, seconds = run_one("", options.timeout)
    print(f"clean run: {clean} in {seconds:.0f}s", flush=True)
    if clean != "survived":
        raise SystemExit("the rule tests fail without any mutant: fix them first")
    killed, survivors = 0, []
    with concurrent.futures.ThreadPoolExecutor(options.jobs) as pool:
        for mutant, status, seconds in pool.map(lambda m: run_one(m, options.timeout), mutants):
            print(f"{status:>8} {seconds:5.0f}s {mutant}", flush=True)
            if status in ("killed", "timeout"):
                killed += 1
            else:
                survivors.append(f"{mutant}: {status}")
    for line in survivors:
        print(f"SURVIVED {line}")
    print(f"rule_mutants_killed: {killed}/{len(mutants)}")


if __name__ == "__main__":
    main()
