"""``python -m environments.shopping.demo``: the default runs of both shopping scenarios."""

from __future__ import annotations

import sys

from sandbox.run import main


def demo(extra: list[str]) -> int:
    """Replay the Tin Men recording, then run the scripted policies in the agentic store."""
    return main(["scenario=shopping_tinmen", *extra]) or main(["scenario=shopping", *extra])


if __name__ == "__main__":
    raise SystemExit(demo(sys.argv[1:]))
