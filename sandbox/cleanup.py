"""``python -m sandbox.cleanup``: removes what runs left (the command of :mod:`sandbox.docker.cleanup`).

The public command keeps its name; the code lives with the rest of the Docker backend. Run as a
module only: importing this one loads nothing.
"""

import runpy

if __name__ == "__main__":
    runpy.run_module("sandbox.docker.cleanup", run_name="__main__", alter_sys=True)
