"""Helpers that test modules import (fixtures stay in ``conftest.py``, which pytest loads itself)."""

from __future__ import annotations

import socket
import threading
import time


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PeakRss:
    """The peak resident memory of a process, with its children when ``tree`` (a sum over the process tree:
    what a user sees), sampled every ``interval`` seconds until the ``with`` block ends."""

    def __init__(self, pid: int, *, tree: bool = False, interval: float = 0.02) -> None:
        import psutil

        self.process, self.tree, self.interval = psutil.Process(pid), tree, interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> int:
        import psutil

        try:
            members = [self.process, *(self.process.children(recursive=True) if self.tree else [])]
        except psutil.Error:  # the process itself has ended
            return 0
        total = 0
        for member in members:
            try:
                total += member.memory_info().rss
            except psutil.Error:  # a child ended between listing and reading
                pass
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._sample())
            time.sleep(self.interval)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
