"""A real PostgreSQL for the tests: a cluster of its own (initdb) in a temporary directory,
listening on a free loopback port, stopped at the end. Run as the `postgres` user when the
tests run as root (PostgreSQL refuses root)."""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import psycopg


def _binary(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} is not installed (scripts/test.sh installs Debian's postgresql)")
    return found


def _as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _run(command: list[str]) -> None:
    done = subprocess.run(_as_postgres(command), capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{Path(command[0]).name} failed: {done.stdout}{done.stderr}")


class Cluster:
    """A cluster in a directory of its own under the system's temporary directory (pytest's are
    private to the user running the tests, which the `postgres` user cannot enter)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.base = Path(tempfile.mkdtemp(prefix="drafting-pg-"))
        self.data = self.base / "pgdata"
        self.log = self.base / "postgres.log"

    def start(self) -> Cluster:
        if os.geteuid() == 0:
            shutil.chown(self.base, "postgres", "postgres")
        _run([_binary("initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
              "--locale=C.UTF-8"])
        options = f"-p {self.port} -h 127.0.0.1 -k {self.base} -F -c max_connections=200"
        _run([_binary("pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.log), "-w", "-t", "60", "start"])
        return self

    def stop(self) -> None:
        try:
            _run([_binary("pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"])
        finally:
            shutil.rmtree(self.base, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh, empty database; its URL."""
        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)
