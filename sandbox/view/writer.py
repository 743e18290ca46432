"""Writing the site's data files: atomically, redacted, as ``SVData`` calls that load from ``file://``.

Every file is passed through :func:`sandbox.logs.redact`'s secret values again. Text of any
bytes reaches the page as it was logged: lone surrogates are written as ``\\uXXXX`` escapes.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from sandbox.logs import secret_values

SURROGATE = re.compile("[\ud800-\udfff]")
"""A lone surrogate (a byte that is not UTF-8, or one a model wrote): written as a ``\\uXXXX``
escape, which a JavaScript string holds as it is; the page shows it escaped and marked."""


class Writer:
    """Writes data files under the site root: atomically, redacted, as ``SVData`` calls."""

    def __init__(self, root: Path, secrets: list[str] | None = None) -> None:
        self.root = root
        self.secrets = secret_values() if secrets is None else secrets

    def redact(self, text: str) -> str:
        """Replace every secret value (also in its JSON-escaped form) with ``[redacted]``."""
        for value in self.secrets:
            text = text.replace(value, "[redacted]")
            escaped = json.dumps(value, ensure_ascii=False)[1:-1]
            if escaped != value:
                text = text.replace(escaped, "[redacted]")
        return text

    def write(self, rel: str, payload: Any) -> None:
        """Write ``payload`` as ``SVData("rel", payload);`` to ``root/rel``."""
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str)
        body = self.redact(body).replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
        body = SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", body)  # lone surrogates: JS escapes, kept
        self.write_text(rel, f"SVData({json.dumps(rel)},{body});\n")

    def write_text(self, rel: str, text: str) -> None:
        """Write a text file atomically (readers never see half a file)."""
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
