"""Command line: ``python -m sandbox.new NAME [DEST] [--into PACKAGE_DIR]``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from sandbox.errors import UserInputError
from sandbox.new.generate import generate


def main(argv: list[str] | None = None) -> int:
    """Generate the package; print what was written and what to do next."""
    parser = argparse.ArgumentParser(prog="python -m sandbox.new", description=__doc__)
    parser.add_argument("name", help="the package and scenario name, a lowercase identifier (e.g. ticket_triage)")
    parser.add_argument("dest", nargs="?", type=Path, help="standalone: the new distribution's directory "
                        "(default ./sandbox-NAME)")
    parser.add_argument("--into", type=Path, metavar="PACKAGE_DIR",
                        help="put the package into this package of your project (e.g. environments/) and "
                        "register it in the project's pyproject.toml")
    args = parser.parse_args(argv)
    if args.dest and args.into:
        print("error: give either DEST (a new distribution) or --into (a package of your project)", file=sys.stderr)
        return 2
    try:
        made = generate(args.name, dest=args.dest, into=args.into)
    except UserInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    here = Path.cwd()
    print(f"created {made.env_id} in {made.module} ({len(made.files)} files):")
    for path in made.files:
        print(f"  {os.path.relpath(path, here)}  ({len(path.read_text().splitlines())} lines)")
    root = os.path.relpath(made.root, here)
    install = f"pip install -e '{root}[dev]'" if args.into is None else (
        f"entry point added to {os.path.relpath(made.pyproject, here)}: reinstall the project (make venv, "
        f"or pip install -e {root})")
    tests = os.path.relpath(next(p for p in made.files if p.name == f"test_{args.name}.py").parent, here)
    print(f"next:\n  {install}\n  python -m sandbox.check {made.env_id}\n"
          f"  python -m sandbox.run scenario={args.name}\n  python -m pytest {tests}\n"
          f"  then follow the TODOs (grep -rn TODO {root})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
