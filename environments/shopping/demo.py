"""``python -m environments.shopping.demo``: the default runs of both shopping scenarios."""

from __future__ import annotations

import sys

from sandbox.run import main


def demo(extra: list[str]) -> int:
    """Replay the Tin Men recording, then run the scripted policies in the agentic store.

    ``out=DIR`` puts each run in ``DIR/<scenario>``; other ``key=value`` arguments go to both.
    """
    for scenario in ("shopping_tinmen", "shopping"):
        args = [f"{a}/{scenario}" if a.startswith("out=") else a for a in extra]
        code = main([f"scenario={scenario}", *args])
        if code:
            return code
    return 0


if __name__ == "__main__":
    raise SystemExit(demo(sys.argv[1:]))
