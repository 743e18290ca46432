"""Tools shared by environments, one per module."""

from sandbox.toolkit.bash import bash
from sandbox.toolkit.read_file import read_file
from sandbox.toolkit.submit import submit
from sandbox.toolkit.write_file import write_file

__all__ = ["bash", "read_file", "submit", "write_file"]
