"""``python -m sandbox.view RUN_DIR [RUN_DIR …] [--out DIR] [--serve [--port N]] [--episode-figures N|all]``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from sandbox.errors import UserInputError


def figure_limit(value: str) -> int | None:
    """``all`` → ``None``; otherwise a count ≥ 0."""
    if value == "all":
        return None
    try:
        count = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or 'all', got {value!r}") from None
    if count < 0:
        raise argparse.ArgumentTypeError("expected a number ≥ 0 or 'all'")
    return count


def main(argv: list[str] | None = None) -> int:
    """Build the viewer site (and serve it with ``--serve``); return the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m sandbox.view",
        description="Write a static site to read every episode of one or more runs (opens from disk, offline).")
    parser.add_argument("run_dirs", nargs="+", type=Path, metavar="RUN_DIR", help="run directories (runs/<run id>)")
    parser.add_argument("--out", type=Path, help="site directory (default: the first RUN_DIR/view)")
    parser.add_argument("--serve", action="store_true",
                        help="serve on 127.0.0.1 and refresh while the runs are still writing")
    parser.add_argument("--port", type=int, default=0, help="port for --serve (default: a free one)")
    parser.add_argument("--episode-figures", type=figure_limit, default=50, metavar="N|all",
                        help="make per-episode figures for the first N episodes now (default 50); "
                             "with --serve the others are made when opened")
    args = parser.parse_args(argv)
    from sandbox.view.site import Site

    out = args.out or args.run_dirs[0] / "view"
    started = time.perf_counter()
    try:
        site = Site(args.run_dirs, out, episode_figures=args.episode_figures, live=args.serve).build()
    except UserInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    episodes = sum(len(run.rows) for run in site.runs)
    print(f"viewer: {episodes} episodes in {time.perf_counter() - started:.1f} s → "
          f"{(out / 'index.html').resolve().as_uri()}")
    if not args.serve:
        site.close()
        return 0
    from sandbox.view.serve import LiveServer

    try:
        server = LiveServer(site, port=args.port).start()
    except OSError as exc:
        print(f"error: cannot listen on 127.0.0.1:{args.port} ({exc.strerror}); try --port 0", file=sys.stderr)
        return 2
    print(f"serving {server.url} (live refresh; Ctrl-C to stop)")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        site.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
