"""What a bench (or the soak test) reads about a server process from /proc: its resident
memory, its CPU time, and whether it has gone idle (its event flow caught up)."""

from __future__ import annotations

import os
import time
from pathlib import Path


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (a shared machine slows the wall clock, not
    the CPU time a request costs)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def settle(pid: int, window_s: float = 0.5, busy_fraction: float = 0.05,
           limit_s: float = 120) -> bool:
    """Wait until the process is idle, less than `busy_fraction` of a core over `window_s` (local
    mode: its event flow has caught up); False if it was still busy after `limit_s`."""
    deadline = time.monotonic() + limit_s
    last = cpu_seconds(pid)
    while time.monotonic() < deadline:
        time.sleep(window_s)
        now = cpu_seconds(pid)
        if now - last < busy_fraction * window_s:
            return True
        last = now
    return False
