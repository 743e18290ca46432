"""Which paths a shell command writes, read from its text (the audit log of what the agent ran).

A heuristic, used alongside the file-system ground truth: it catches a harness file changed and
restored inside one command. It parses redirections, ``sed -i``/``perl -i``, ``rm``, ``mv``,
``cp``/``install``/``ln`` destinations, ``tee``, ``truncate``, ``chmod``/``chown``, ``dd of=`` and
``python -c`` code that opens a file for writing.
"""

from __future__ import annotations

import posixpath
import re
import shlex

SEPARATORS = {";", "&&", "||", "|", "&", "\n", "(", ")", "{", "}"}
REDIRECTS = {">", ">>", ">|", "&>", "&>>", "<>"}
ALL_ARGS = {"rm", "unlink", "truncate", "chmod", "chown", "chgrp", "shred", "mv", "tee", "patch", "setfacl"}
LAST_ARG = {"cp", "install", "ln", "rsync"}
IN_PLACE = {"sed", "perl", "gsed"}
WRITE_OPEN = re.compile(r"open\([^)]*['\"](?:w|a|r\+|x)[bt+]?['\"]|write_text|write_bytes|"
                        r"os\.(?:remove|unlink|rename|replace|chmod)")


def _segments(command: str) -> list[list[str]]:
    lexer = shlex.shlex(command.replace("\n", " ; "), posix=True, punctuation_chars=";&|()<>")
    lexer.whitespace_split = True
    try:
        tokens = list(lexer)
    except ValueError:
        tokens = command.split()
    segments: list[list[str]] = [[]]
    for token in tokens:
        if token in SEPARATORS:
            segments.append([])
        else:
            segments[-1].append(token)
    return [s for s in segments if s]


def written_paths(command: str) -> list[str]:
    """Tokens naming files the command may write, change or remove (as written, unresolved)."""
    out: list[str] = []
    for segment in _segments(command):
        words: list[str] = []
        index = 0
        while index < len(segment):
            token = segment[index]
            if token.rstrip("0123456789") in REDIRECTS or (token[:-1].isdigit() and token[-1:] == ">"):
                if index + 1 < len(segment):
                    out.append(segment[index + 1])
                index += 2
                continue
            words.append(token)
            index += 1
        while words and (("=" in words[0] and not words[0].startswith("-")) or words[0] in {"sudo", "env", "command",
                                                                                            "nohup", "time"}):
            words = words[1:]
        if not words:
            continue
        program, args = posixpath.basename(words[0]), words[1:]
        plain = [a for a in args if not a.startswith("-")]
        if program in IN_PLACE and any(a.startswith("-i") or a == "--in-place" or a.startswith("-pi") for a in args):
            out += plain[1:] if program != "perl" else [a for a in plain if "/" in a or "." in a]
        elif program in ALL_ARGS:
            out += plain[1:] if program in {"chmod", "chown", "chgrp", "setfacl"} else plain
        elif program in LAST_ARG and plain:
            out.append(plain[-1])
        elif program == "dd":
            out += [a[3:] for a in args if a.startswith("of=")]
        elif program.startswith("python") and "-c" in args:
            code = args[args.index("-c") + 1] if args.index("-c") + 1 < len(args) else ""
            if WRITE_OPEN.search(code):
                out += re.findall(r"['\"]([^'\"]+\.[A-Za-z0-9]+)['\"]", code)
    return out


def matches(token: str, path: str) -> bool:
    """Whether a command's path token may name ``path`` (absolute): equal, or a suffix of it."""
    token = posixpath.normpath(token.strip("'\""))
    if token.startswith("/"):
        return token == path
    return path == token or path.endswith("/" + token.removeprefix("./"))
