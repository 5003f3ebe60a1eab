"""Whether a process that holds a row (an unfinished draft, a place in the model queue) still runs."""
from __future__ import annotations

import os


def process_running(pid: int) -> bool:
    """Whether `pid` runs on this host; a zombie (exited, not yet reaped) does not."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True
