"""The package as `pip install .` sees it: a wheel with the `drafting` console script and every
data file the code reads (prompts, corpus, sample bullets, the checker's word lists, the
database migrations)."""
from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from drafting.config import REPO_ROOT


def test_the_wheel_carries_the_code_its_data_and_the_command(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check", "-q",
                    "-w", str(tmp_path), str(REPO_ROOT)], check=True, timeout=600, capture_output=True)
    wheel = next(tmp_path.glob("drafting-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("drafting/service.py", "drafting/flow/pipeline.py", "drafting/checker/data/claims.txt",
                   "drafting/checker/data/lexicon.txt", "drafting/checker/data/char_weights.tsv",
                   "drafting/resources/prompts/section.txt", "drafting/resources/prompts/frame.txt",
                   "drafting/resources/corpus/seed_summaries.jsonl", "drafting/resources/corpus/splits.json",
                   "drafting/resources/examples/facts_street_2024h1.txt", "drafting/store/migrations/env.py",
                   "drafting/store/migrations/versions/0001_history.py",
                   "drafting/store/migrations/versions/0002_accounts.py"):
        assert needed in names, needed
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "drafting = drafting.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
