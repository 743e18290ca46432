"""The ```bash blocks of the project's documentation, as a user would copy them.

A block preceded (on the nearest non-blank line) by ``<!-- not run in CI: REASON -->`` is
marked skipped with that reason; every other block is run by ``test_doc_commands.py``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOC_GLOBS = ("README.md", "docs/*.md", "agents/README.md", "scenarios/README.md", "environments/*/README.md")
SKIP_MARK = re.compile(r"^<!--\s*not run in CI:\s*(?P<reason>.+?)\s*-->$")
FENCE = re.compile(r"^(?P<indent>\s*)```(?P<lang>[\w-]*)")
FILE_COMMENT = re.compile(r"^#\s*(?P<name>[\w.-]+\.ya?ml)\s*$")


@dataclass(frozen=True)
class Block:
    """One fenced block of a documentation file.

    Attributes:
        path: the file, relative to the repository root.
        ordinal: 1 for the file's first block of this language, 2 for the next…
        line: the 1-based line of the opening fence.
        lang: the fence's language (``bash``, ``yaml``…).
        text: the block's lines with the fence's indentation removed.
        skip_reason: the reason of a ``not run in CI`` mark, or None.
    """

    path: str
    ordinal: int
    line: int
    lang: str
    text: str
    skip_reason: str | None

    @property
    def id(self) -> str:
        """A readable id, e.g. ``README.md#3``."""
        return f"{self.path}#{self.ordinal}"

    @property
    def digest(self) -> str:
        """The first 10 hex digits of the text's sha256: any edit changes it."""
        return hashlib.sha256(self.text.encode()).hexdigest()[:10]


def doc_files() -> list[Path]:
    """Every documentation file whose blocks must run, in a stable order."""
    return sorted({path for pattern in DOC_GLOBS for path in REPO.glob(pattern)})


def blocks(path: Path, lang: str = "bash") -> list[Block]:
    """The fenced blocks of one language in a Markdown file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    index = 0
    previous = ""
    while index < len(lines):
        fence = FENCE.match(lines[index])
        if fence is None:
            if lines[index].strip():
                previous = lines[index].strip()
            index += 1
            continue
        indent, start = len(fence["indent"]), index
        body: list[str] = []
        index += 1
        while index < len(lines) and not lines[index].strip().startswith("```"):
            line = lines[index]
            body.append(line[indent:] if line[:indent].strip() == "" else line.lstrip())
            index += 1
        if fence["lang"] == lang:
            mark = SKIP_MARK.match(previous)
            found.append(Block(
                path=str(path.relative_to(REPO)), ordinal=len(found) + 1, line=start + 1, lang=lang,
                text="\n".join(body), skip_reason=mark["reason"] if mark else None,
            ))
        previous = lines[index].strip() if index < len(lines) else ""
        index += 1
    return found


def all_blocks() -> list[Block]:
    """Every ```bash block of every documentation file."""
    return [block for path in doc_files() for block in blocks(path)]


def saved_files(path: Path) -> dict[str, str]:
    """The ```yaml blocks a file asks the reader to save: those whose first line is ``# NAME.yaml``."""
    saved: dict[str, str] = {}
    for block in blocks(path, "yaml"):
        first = FILE_COMMENT.match(block.text.splitlines()[0]) if block.text else None
        if first is not None:
            saved[first["name"]] = block.text + "\n"
    return saved


def commands(text: str) -> list[str]:
    """A block's logical commands: continuation lines joined, blank and comment-only lines dropped."""
    joined: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.rstrip()
        if line.endswith("\\"):
            pending += line[:-1].rstrip() + " "
            continue
        line = pending + line.strip() if pending else line
        pending = ""
        if line.strip() and not line.lstrip().startswith("#"):
            joined.append(line.strip())
    return joined
