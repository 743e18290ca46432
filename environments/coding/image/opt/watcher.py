"""inotify watcher run as the grader user: records changes to watched names, even if later undone.

``watcher.py start SPEC``: daemon; SPEC = {"log": file, "roots": [dirs], "names": regex}. Writes
"R" to the log once every existing directory is watched, then one line per event on a path that
matches ``names``: "<mask>\\t<path>". "O" marks a queue overflow, "U\\t<dir>" a directory it
could not watch. ``watcher.py stop SPEC`` stops it and prints the log (base64 of zlib JSON).
"""

import ctypes
import errno
import os
import re
import signal
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import emit, read_spec

MASK = 0x2 | 0x4 | 0x8 | 0x40 | 0x80 | 0x100 | 0x200 | 0x400 | 0x800
IN_ISDIR, IN_Q_OVERFLOW, IN_IGNORED = 0x40000000, 0x4000, 0x8000
IN_MOVED_FROM, IN_MOVED_TO, IN_CREATE = 0x40, 0x80, 0x100
FLAGS = 0x02000000 | 0x01000000  # IN_DONT_FOLLOW | IN_ONLYDIR
HEADER = struct.Struct("iIII")
MAX_LINES = 100000


class Watcher:
    def __init__(self, spec):
        self.libc = ctypes.CDLL("libc.so.6", use_errno=True)
        self.fd = self.libc.inotify_init1(os.O_CLOEXEC)
        self.names = re.compile(spec["names"])
        self.log = open(spec["log"], "a", buffering=1)  # noqa: SIM115 (open for the daemon's life)
        self.paths, self.lines, self.moves = {}, 0, {}
        for root in spec["roots"]:
            self.add_tree(root)

    def write(self, line):
        if self.lines < MAX_LINES:
            self.log.write(line + "\n")
        elif self.lines == MAX_LINES:
            self.log.write("O\n")
        self.lines += 1

    def add_tree(self, top):
        for directory, subdirs, _ in os.walk(top, followlinks=False):
            wd = self.libc.inotify_add_watch(self.fd, os.fsencode(directory), MASK | FLAGS)
            if wd < 0:
                if ctypes.get_errno() != errno.ENOENT:  # a directory already gone holds nothing to watch
                    self.write(f"U\t{directory}")
                subdirs[:] = []
            else:
                self.paths[wd] = directory

    def handle(self, wd, mask, cookie, name):
        if mask & IN_Q_OVERFLOW:
            self.write("O")
            return
        base = self.paths.get(wd)
        if base is None or mask & IN_IGNORED:
            return
        path = os.path.join(base, name) if name else base
        if mask & IN_ISDIR and mask & IN_MOVED_FROM:
            self.moves[cookie] = path
        if mask & IN_ISDIR and mask & IN_MOVED_TO and cookie in self.moves:
            old = self.moves.pop(cookie)
            for key, value in list(self.paths.items()):
                if value == old or value.startswith(old + "/"):
                    self.paths[key] = path + value[len(old):]
        elif mask & IN_ISDIR and mask & (IN_CREATE | IN_MOVED_TO):
            self.add_tree(path)
        if self.names.search(path):
            self.write(f"{mask}\t{path}")

    def run(self):
        self.log.write("R\n")
        while True:
            data = os.read(self.fd, 1 << 16)
            offset = 0
            while offset < len(data):
                wd, mask, cookie, size = HEADER.unpack_from(data, offset)
                raw = data[offset + HEADER.size: offset + HEADER.size + size].split(b"\0", 1)[0]
                offset += HEADER.size + size
                self.handle(wd, mask, cookie, os.fsdecode(raw))


def stop(spec):
    alive = False
    try:
        with open(spec["log"] + ".pid") as handle:
            pid = int(handle.read())
        os.kill(pid, 0)
        alive = True
        os.kill(pid, signal.SIGTERM)
        for _ in range(100):
            os.kill(pid, 0)
            time.sleep(0.01)
    except (OSError, ValueError):
        pass
    try:
        with open(spec["log"]) as handle:
            text = handle.read()
    except OSError:
        text = None
    emit({"log": text, "alive": alive})


def main():
    command, spec = sys.argv.pop(1), read_spec()
    if command == "stop":
        stop(spec)
        return
    with open(spec["log"] + ".pid", "w") as handle:
        handle.write(str(os.getpid()))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    Watcher(spec).run()


main()
