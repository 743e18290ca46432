"""Writing the static site: page assets, one small list index per run and one file per episode.

Layout of the output directory (``index.html`` opens from disk; no network is used)::

    index.html, assets/*.js, assets/*.css      the page (copied from ``sandbox/view/static``)
    status.js                                  runs, episode counts, chunk sizes (polled live)
    data/<run>/run.js                          manifest, report tables, figure paths, warnings
    data/<run>/rows/0000.js …                  list rows, 1,000 per chunk
    data/<run>/ep/000000.js …                  one episode each, loaded when opened
    data/<run>/fig/…                           PNG figures

Data files are JavaScript calling ``SVData(path, payload)`` so they load through
``<script src>`` from ``file://`` (where ``fetch`` is blocked) as well as over HTTP. Every file is
written atomically and passed through :func:`sandbox.logs.redact` again. Text of any bytes
reaches the page as it was logged (lone surrogates as ``\\uXXXX`` escapes); the page shows
control, format and bidirectional characters and bytes that are not UTF-8 as marked escapes.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from sandbox.errors import UserInputError
from sandbox.view.data import PromptSource, check_run_dir
from sandbox.view.run import RunBuilder
from sandbox.view.writer import Writer

STATIC = Path(__file__).resolve().parent / "static"
MARKER = ".sandbox-view"


def prepare_out(out: Path) -> None:
    """Create ``out`` (or reuse a site this module wrote there); never clobber anything else."""
    if out.exists() and not out.is_dir():
        raise UserInputError(f"--out {out} is a file; give a directory")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).exists():
        raise UserInputError(f"{out} is not empty and was not written by sandbox.view; give another --out DIR")
    out.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(out / "data", ignore_errors=True)
    (out / MARKER).write_text("written by python -m sandbox.view; the whole directory is regenerated\n")


class Site:
    """The viewer site of one or more runs.

    Args:
        run_dirs: run directories (each holding ``episodes.jsonl``).
        out: where the site goes.
        episode_figures: how many episodes (in log order) get their environment's per-episode
            figures at build time; ``None`` for all. Others are made on request under ``--serve``.
        live: the page polls ``status.js`` for new episodes (``--serve``).
    """

    def __init__(self, run_dirs: list[Path], out: Path, episode_figures: int | None = 50, live: bool = False) -> None:
        dirs = [check_run_dir(Path(d)) for d in run_dirs]
        if not dirs:
            raise UserInputError("give at least one run directory (e.g. runs/<run id>)")
        self.out = out
        self.live = live
        self.writer = Writer(out)
        self.prompts = PromptSource()
        self.version = 0
        labels: list[str] = []
        self.runs: list[RunBuilder] = []
        for index, run_dir in enumerate(dirs):
            builder = RunBuilder(f"r{index}", run_dir, self.writer, self.prompts, episode_figures)
            label = builder.label
            while label in labels:
                label += "′"
            labels.append(label)
            builder.label = label
            self.runs.append(builder)

    def build(self) -> Site:
        """Write the whole site now (all episodes so far, figures included)."""
        prepare_out(self.out)
        self.write_assets()
        for run in self.runs:
            run.refresh(force_figures=True)
        self.write_status()
        return self

    def refresh(self) -> bool:
        """Take in episodes appended since the last call; ``True`` if anything changed."""
        changed = False
        for run in self.runs:
            changed |= run.refresh(force_figures=False)
        if changed:
            self.write_status()
        return changed

    def write_assets(self) -> None:
        """Copy the page (HTML, JS, CSS) into the site."""
        (self.out / "assets").mkdir(parents=True, exist_ok=True)
        for source in sorted(STATIC.iterdir()):
            if source.suffix in (".js", ".css"):
                shutil.copyfile(source, self.out / "assets" / source.name)
        shutil.copyfile(STATIC / "index.html", self.out / "index.html")

    def write_status(self) -> None:
        """Write ``status.js``: what runs there are and how far each has been read."""
        self.version += 1
        self.writer.write("status.js", {
            "version": self.version,
            "generated": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "live": self.live,
            "runs": [run.status() for run in self.runs],
        })

    def run(self, key: str) -> RunBuilder | None:
        """The run with this key (``r0``…)."""
        return next((r for r in self.runs if r.key == key), None)

    def close(self) -> None:
        """Release what was opened for rebuilding prompts."""
        self.prompts.close()


def build_site(run_dirs: list[Path], out: Path | None = None, episode_figures: int | None = 50) -> Path:
    """Write the viewer site of ``run_dirs`` to ``out`` (default ``RUN_DIR/view``); return ``index.html``.

    Example:
        >>> build_site([Path("runs/20260101-000000-filechore-abc123")])  # doctest: +SKIP
        PosixPath('runs/20260101-000000-filechore-abc123/view/index.html')
    """
    out = out or Path(run_dirs[0]) / "view"
    site = Site(run_dirs, out, episode_figures=episode_figures)
    try:
        site.build()
    finally:
        site.close()
    return out / "index.html"
