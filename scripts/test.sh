#!/usr/bin/env bash
# The whole test suite, setting everything up by itself (idempotent): system packages for the
# browser test (Debian chromium, CJK fonts), the database tests (Debian postgresql: the tests
# start clusters of their own on loopback) and the PDF export (LibreOffice, AR PL 楷/明 fonts);
# the virtual environment with dev dependencies, the embedded model, the tiktoken cache and the
# retrieval index; then ruff and mypy, then pytest — the whole
# suite, then the faces' tests again on PostgreSQL. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -x /usr/bin/chromium ]] || ! dpkg -s fonts-noto-cjk fonts-arphic-ukai fonts-arphic-uming >/dev/null 2>&1 \
    || ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || [[ ! -x /usr/bin/soffice ]]; then
  echo "== 安装 Debian chromium、中文字体、PostgreSQL 与 LibreOffice（浏览器、数据库与 PDF 导出的测试用）"
  if [[ $(id -u) -eq 0 ]]; then sudo_cmd=(); else sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq chromium fonts-noto-cjk fonts-arphic-ukai \
    fonts-arphic-uming postgresql >/dev/null
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
    libreoffice-writer-nogui >/dev/null
fi
scripts/bootstrap.sh --dev
echo "== ruff / mypy"
.venv/bin/ruff check .
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
# The history, accounts and model queue on PostgreSQL: the tests of the faces that use them run
# again with a fresh database of a real PostgreSQL each (the store and gate tests cover both
# backends in the run above already).
echo "== 页面、API 与命令行测试：在 PostgreSQL 上再跑一遍"
DRAFTING_TEST_BACKEND=postgresql exec .venv/bin/python -m pytest "$@" tests/test_api.py tests/test_api_faults.py \
  tests/test_api_serve.py tests/test_api_fuzz.py tests/test_app.py tests/test_app_accounts.py tests/test_page_logic.py \
  tests/test_cli_draft.py
