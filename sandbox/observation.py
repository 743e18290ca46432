"""What the model is shown: one size cap for every tool's output, marked where it cuts.

Everything an agent's tool returns goes through :func:`clip` (text) or :func:`render_bytes`
(file content): past the cap the middle is cut out, keeping the head and the tail, and a
marker line states how many bytes were left out of how many; binary content is described,
never dumped.
"""

from __future__ import annotations

DEFAULT_OBSERVATION_BYTES = 64 * 1024
"""The default cap (bytes of UTF-8) of one observation; environments set ``max_observation_bytes``."""

_SNIFF = 8192


def _cut(data: bytes, at: int, forward: bool) -> int:
    """Move ``at`` off the middle of a UTF-8 sequence."""
    while 0 < at < len(data) and (data[at] & 0xC0) == 0x80:
        at += 1 if forward else -1
    return at


def clip(text: str, limit: int = DEFAULT_OBSERVATION_BYTES, original_size: int | None = None) -> str:
    """``text`` if it fits in ``limit`` bytes, else its head and tail around a marker line.

    Args:
        text: what would be shown.
        limit: the cap in bytes (UTF-8).
        original_size: the size of the full output when ``text`` is already a part of it.
    """
    raw = text.encode("utf-8", errors="replace")
    total = max(original_size or 0, len(raw))
    if len(raw) <= limit:
        return text if total == len(raw) else text + f"\n[output cut: {total - len(raw)} of {total} bytes omitted]"
    head = _cut(raw, limit // 2, forward=False)
    tail = _cut(raw, len(raw) - (limit - head), forward=True)
    omitted = total - head - (len(raw) - tail)
    marker = f"\n[... output cut: {omitted} of {total} bytes omitted ...]\n"
    return raw[:head].decode("utf-8", "replace") + marker + raw[tail:].decode("utf-8", "replace")


def looks_binary(data: bytes) -> bool:
    """Whether ``data`` is binary (a NUL byte, or not UTF-8, in its first 8 KiB)."""
    sample = data[:_SNIFF]
    if b"\x00" in sample:
        return True
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start < len(sample) - 4  # a sequence cut at the sample's end is still text
    return False


def render_bytes(data: bytes, limit: int = DEFAULT_OBSERVATION_BYTES, original_size: int | None = None) -> str:
    """File content for the model: text clipped to ``limit``, binary content described."""
    size = max(original_size or 0, len(data))
    if looks_binary(data):
        return f"[binary content: {size} bytes, not shown; inspect it with od or xxd in the shell]"
    return clip(data.decode("utf-8", errors="replace"), limit, original_size=size)


def observation_limit(env: object) -> int:
    """The cap of the environment a tool runs in (``env.observation_limit``), else the default."""
    return int(getattr(env, "observation_limit", DEFAULT_OBSERVATION_BYTES))
