#!/usr/bin/env bash
# The whole test suite, setting everything up by itself (idempotent): system packages for the
# browser test (Debian chromium, CJK fonts) and the database tests (Debian postgresql: the tests
# start clusters of their own on loopback), the virtual environment with dev dependencies, the embedded
# model, the tiktoken cache and the retrieval index; then ruff and mypy, then pytest. Extra
# arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -x /usr/bin/chromium ]] || ! dpkg -s fonts-noto-cjk >/dev/null 2>&1 || ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  echo "== 安装 Debian chromium、中文字体（浏览器端到端测试用）与 PostgreSQL（数据库测试用）"
  if [[ $(id -u) -eq 0 ]]; then sudo_cmd=(); else sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq chromium fonts-noto-cjk postgresql >/dev/null
fi
scripts/bootstrap.sh --dev
echo "== ruff / mypy"
.venv/bin/ruff check .
.venv/bin/mypy
exec .venv/bin/python -m pytest "$@"
