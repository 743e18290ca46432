"""``python -m sandbox.export RUN_DIR --format inspect --out DIR``: a finished run as other tools' files.

``--format inspect`` (the default) writes one Inspect eval log per scenario × model of the run
into ``--out`` (default: Inspect's own log directory, ``$INSPECT_LOG_DIR`` or ``./logs``, so a
bare ``inspect view`` shows them); ``--log-format json`` writes Inspect's JSON logs instead of
``.eval`` files. The run directory is only read. A re-export of the same run rewrites the same
files.

Exit codes: 0 written; 2 bad input (a missing directory, one that is not a run directory, an
unknown format, an output directory that cannot be written, inspect-ai not installed), told
in one line with what to do instead.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from sandbox.errors import UnknownNameError, UserInputError

from . import FORMATS

if TYPE_CHECKING:
    from .inspect_format.log import ExportedLog

USAGE = "python -m sandbox.export RUN_DIR [--format inspect] [--out DIR] [--log-format eval|json]"


class _UsageError(UserInputError):
    """The command line could not be parsed."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]  # one line, not argparse's usage block
        raise _UsageError(f"{message} (usage: {USAGE})")


def writable_directory(path: Path) -> Path:
    """``path`` as a directory this process can write into (made if missing).

    Raises:
        UserInputError: it is a file, or it cannot be made or written.
    """
    if path.exists() and not path.is_dir():
        raise UserInputError(f"--out {path} is a file; give a directory for the logs")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise UserInputError(f"cannot write to --out {path} ({exc.strerror or exc}); "
                             "give a directory you can write to") from exc
    return path


def main(argv: list[str] | None = None) -> int:
    """Export a run; return the process exit code."""
    parser = _Parser(prog="python -m sandbox.export", description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("run_dir", type=Path, help="a run directory (what python -m sandbox.run wrote)")
    parser.add_argument("--format", default="inspect", help=f"export format: {', '.join(FORMATS)} (default inspect)")
    parser.add_argument("--out", type=Path, default=Path(os.environ.get("INSPECT_LOG_DIR") or "logs"),
                        help="directory for the logs (default: $INSPECT_LOG_DIR or ./logs, where inspect view looks)")
    parser.add_argument("--log-format", choices=["eval", "json"], default="eval",
                        help="Inspect's log file format (default eval)")
    try:
        args = parser.parse_args(argv)
        if args.format not in FORMATS:
            raise UnknownNameError("export format", args.format, FORMATS)
        written = _export_inspect(args.run_dir, args.out, args.log_format)
    except UserInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for log in written:
        notes = [f"{log.errors} errored" if log.errors else "",
                 f"{log.interrupted} interrupted left out" if log.interrupted else "",
                 f"{log.not_started} never started" if log.not_started else ""]
        detail = "; ".join(n for n in notes if n)
        print(f"{log.path}  {log.scenario} × {log.model}: {log.samples} sample{'' if log.samples == 1 else 's'}"
              + (f" ({detail})" if detail else "") + f", {log.status}")
    print(f"view them: inspect view --log-dir {args.out}")
    return 0


def _export_inspect(run_dir: Path, out: Path, log_format: str) -> list[ExportedLog]:
    from .rundir import read_run

    run = read_run(run_dir)
    try:
        from .inspect_format.log import export_inspect
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith("inspect_ai"):
            raise
        raise UserInputError("the inspect format needs inspect-ai: pip install 'agentic-sandbox[inspect]'") from exc
    return export_inspect(run, writable_directory(out), "json" if log_format == "json" else "eval")
