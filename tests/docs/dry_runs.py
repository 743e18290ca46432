"""Play several ``python -m sandbox.run … dry_run=true`` commands in one interpreter.

Usage: ``python dry_runs.py ARGS… [--- ARGS…]…``: each group is one command's arguments (after
the shell expanded them), passed to ``sandbox.run``'s ``main`` exactly as ``python -m
sandbox.run ARGS`` would. A dry run starts nothing and writes nothing, so one interpreter can
play a block's dry runs in turn and pay the imports once. Exit 0 when every one exited 0.
"""

from __future__ import annotations

import sys

SEPARATOR = "---"


def main(argv: list[str]) -> int:
    """Run each group of ``argv`` through ``sandbox.run``; return 1 if any exited non-zero."""
    from sandbox.run.cli import main as run_main

    groups: list[list[str]] = [[]]
    for word in argv:
        if word == SEPARATOR:
            groups.append([])
        else:
            groups[-1].append(word)
    failed = []
    for args in groups:
        print(f"+ python -m sandbox.run {' '.join(args)}", flush=True)
        code = run_main(args)
        print(f"exit code {code}", flush=True)
        if code != 0:
            failed.append((args, code))
    for args, code in failed:
        print(f"FAILED (exit {code}): python -m sandbox.run {' '.join(args)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
