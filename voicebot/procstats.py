"""This process's CPU time and resident memory, read from /proc (Linux), for /health and bench."""

from __future__ import annotations

import os
import resource


def process_stats() -> dict[str, float | int]:
    """pid, CPU seconds used so far, current and peak resident set size in MB."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    rss_mb = 0.0
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    rss_mb = int(line.split()[1]) / 1024
                    break
    except OSError:
        rss_mb = usage.ru_maxrss / 1024
    return {
        "pid": os.getpid(),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 3),
        "rss_mb": round(rss_mb, 1),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
    }
