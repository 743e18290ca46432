"""Generic scripted policies shared by all environments."""
