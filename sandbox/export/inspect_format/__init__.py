"""The ``inspect`` export format: a run directory as UK AISI Inspect eval logs.

Everything of :mod:`sandbox.export` that needs ``inspect_ai`` (the optional ``inspect`` extra)
lives here and is imported only when this format is asked for:

* :mod:`.log` — one eval log per scenario × model, written by ``write_eval_log``;
* :mod:`.samples` — one episode as an Inspect sample (messages, scores, metadata);
* :mod:`.events` — its transcript as Inspect events.
"""
