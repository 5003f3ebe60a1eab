"""`python -m drafting check`: exit codes and the JSON contract of design.md."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.usefixtures("data_dir")  # no user lexicon from the developer's data directory

REPO = Path(__file__).resolve().parent.parent
FACTS = "# 组织建设\n- 新建工会8家，发展会员1000多人\n- 发放慰问金30万元\n"


def run_check(tmp_path: Path, draft: str, *extra: str, facts: str = FACTS) -> subprocess.CompletedProcess[str]:
    (tmp_path / "facts.txt").write_text(facts, encoding="utf-8")
    (tmp_path / "draft.txt").write_text(draft, encoding="utf-8")
    cmd = [sys.executable, "-m", "drafting", "check", "--facts", str(tmp_path / "facts.txt"),
           "--draft", str(tmp_path / "draft.txt"), *extra]
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=60)


def test_supported_draft_exits_0_with_json(tmp_path: Path) -> None:
    draft = "2024年上半年，新建工会8家，发展会员一千多名，发放慰问金300000元。"
    result = run_check(tmp_path, draft, "--json", "--year", "2024", "--period", "上半年")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"ok", "figures", "unsupported", "claims", "work_clauses", "missing", "warnings"}
    assert data["ok"] is True and data["unsupported"] == [] and data["missing"] == []
    assert [f["text"] for f in data["figures"] if f["class"] == "FACT"] == ["2024年", "8家", "一千多名", "300000元"]


def test_unsupported_draft_exits_1(tmp_path: Path) -> None:
    draft = "新建工会9家，发展会员1000多人，发放慰问金30万元，培训xx名干部。"
    result = run_check(tmp_path, draft, "--json")
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    assert data["ok"] is False
    assert [(u["text"], draft[u["start"]:u["end"]]) for u in data["unsupported"]] == [("9家", "9家"), ("xx", "xx")]
    assert "要点为“8家”" in data["unsupported"][0]["reason"]
    assert data["missing"] == [{"text": "8家", "fact": "新建工会8家，发展会员1000多人"}]


def test_plain_output_is_the_chinese_summary(tmp_path: Path) -> None:
    result = run_check(tmp_path, "新建工会9家。")
    assert result.returncode == 1
    assert result.stdout.startswith("数字核对：未通过")
    assert "“9家”" in result.stdout


def test_a_malformed_user_lexicon_is_bad_input(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "lexicon.txt").write_text("两节 holiday\n", encoding="utf-8")
    (tmp_path / "facts.txt").write_text(FACTS, encoding="utf-8")
    (tmp_path / "draft.txt").write_text("新建工会8家。", encoding="utf-8")
    cmd = [sys.executable, "-m", "drafting", "check", "--facts", str(tmp_path / "facts.txt"),
           "--draft", str(tmp_path / "draft.txt")]
    env = {**os.environ, "DRAFTING_DATA_DIR": str(data)}
    result = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 2
    assert "lexicon.txt 第 1 行" in result.stderr


@pytest.mark.parametrize("problem", ["missing facts file", "binary draft"])
def test_bad_input_exits_2(tmp_path: Path, problem: str) -> None:
    if problem == "missing facts file":
        cmd = [sys.executable, "-m", "drafting", "check", "--facts", str(tmp_path / "nope.txt"),
               "--draft", str(tmp_path / "nope2.txt")]
        result = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=60)
    else:
        (tmp_path / "facts.txt").write_text(FACTS, encoding="utf-8")
        (tmp_path / "draft.bin").write_bytes(b"\x00\x01binary")
        cmd = [sys.executable, "-m", "drafting", "check", "--facts", str(tmp_path / "facts.txt"),
               "--draft", str(tmp_path / "draft.bin")]
        result = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.startswith("错误：")
