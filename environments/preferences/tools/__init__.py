"""Tools of the preference environments (one per module)."""

from environments.preferences.tools.answer import answer

__all__ = ["answer"]
