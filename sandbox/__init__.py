"""Agentic sandbox simulator: Gymnasium environments in Docker for misalignment research."""

__version__ = "0.1.0"
