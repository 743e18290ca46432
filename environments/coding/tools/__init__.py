"""Tools of the coding environment, one per module."""

from environments.coding.tools.edit import edit

__all__ = ["edit"]
