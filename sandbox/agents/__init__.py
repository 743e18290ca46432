"""Agents: the agent loop, model adapters (litellm), scripted policies and a fake model server."""
