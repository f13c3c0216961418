"""Replay one seed of the mode fuzzer (tests/test_mode_fuzzer.py), and shrink it.

    PYTHONPATH=$PWD python -m tests.tools.fuzz_seed 9292            # print, run, report
    PYTHONPATH=$PWD python -m tests.tools.fuzz_seed 9292 --minimise # and take steps out

`--minimise` removes steps one at a time (and turns off requires_grad) while
the program still fails with an AssertionError (a mismatch between modes);
a candidate that raises anything else (a step no longer valid for the
shape it now gets) is not a smaller case of the same failure. It prints the
smallest failing program, which is the start of a hand-written test.
"""

from __future__ import annotations

import argparse
import copy
import sys
import traceback

from tests.test_mode_fuzzer import draw_program, program_text, run_program


def failure(program: dict, seed: int) -> str | None:
    """The mismatch message, or None when the modes agree (or the program
    raises something other than a mismatch)."""
    try:
        run_program(program, seed)
    except AssertionError as error:
        return str(error)
    except Exception:  # noqa: BLE001 - an invalid shrink is no smaller failure
        return None
    return None


def minimise(program: dict, seed: int) -> dict:
    """Greedily drop steps (and requires_grad) while the program still fails."""
    program = copy.deepcopy(program)
    changed = True
    while changed:
        changed = False
        if program["requires_grad"]:
            candidate = dict(program, requires_grad=False)
            if failure(candidate, seed) is not None:
                program, changed = candidate, True
        for k in range(len(program["steps"]) - 1, -1, -1):
            candidate = dict(program, steps=program["steps"][:k] + program["steps"][k + 1:])
            if candidate["steps"] and failure(candidate, seed) is not None:
                program, changed = candidate, True
    return program


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("seed", type=int)
    parser.add_argument("--minimise", action="store_true")
    args = parser.parse_args(argv)
    program = draw_program(args.seed)
    print(program_text(program))
    try:
        run_program(program, args.seed)
    except Exception:  # noqa: BLE001 - report whatever it was
        traceback.print_exc()
    else:
        print(f"seed {args.seed}: the three modes agree")
        return 0
    if args.minimise:
        smallest = minimise(program, args.seed)
        print("\nsmallest failing program:")
        print(program_text(smallest))
        print(failure(smallest, args.seed))
    return 1


if __name__ == "__main__":
    sys.exit(main())
