"""A child process for the store's concurrency test, run as `python -m tests.store_worker`.

It opens a fresh store (a SQLite file or a PostgreSQL database) in each round, every round at a
wall-clock moment shared with its sibling processes, and writes one version and the autosave there. A separate
module (not a function of the test file under multiprocessing) so that no child imports
whatever module happens to be `__main__` in the pytest process, such as the page.
"""
from __future__ import annotations

import sys
import time

from drafting.store import Store


def main(start_at: str, step: str, *places: str) -> None:
    for r, place in enumerate(places):
        if (delay := float(start_at) + r * float(step) - time.time()) > 0:
            time.sleep(delay)
        store = Store(place)
        store.save_draft(text="标题\n正文", title=f"第{r}轮", request={}, check={"ok": True})
        store.save_input({"round": r})


if __name__ == "__main__":
    main(*sys.argv[1:])
