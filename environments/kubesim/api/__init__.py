"""The simulated cluster served as a subset of the Kubernetes REST API (see ``server.py``)."""
