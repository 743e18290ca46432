"""``python -m sandbox.engine``: makes sure a Docker engine answers (the command of :mod:`sandbox.docker.engine`).

The public command keeps its name; the code lives with the rest of the Docker backend. Run as a
module only: importing this one loads nothing.
"""

import runpy

if __name__ == "__main__":
    runpy.run_module("sandbox.docker.engine", run_name="__main__", alter_sys=True)
