#!/usr/bin/env bash
# The main job: set everything up (idempotent), start the embedded model, open the drafting page
# on http://127.0.0.1:8501. With DRAFTING_LLM_BASE_URL set, the configured endpoint is used instead.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
if [[ -z "${DRAFTING_LLM_BASE_URL:-}${OPENAI_BASE_URL:-}" ]]; then
  .venv/bin/python -m drafting model start
fi
# Another address than loopback opens the page to the office network: only with accounts, so that
# each clerk signs in and sees their own drafts.
address=${DRAFTING_PAGE_ADDRESS:-127.0.0.1}
if [[ "$address" != "127.0.0.1" && "$address" != "localhost" && "$address" != "::1" ]] \
    && [[ -z "$(.venv/bin/python -m drafting users list)" ]]; then
  echo "错误：要在 $address 上开放页面，请先添加账号：.venv/bin/python -m drafting users add 用户名 --admin" >&2
  exit 2
fi
echo "== 起草页面：http://$address:${DRAFTING_PAGE_PORT:-8501} （Ctrl+C 退出；内置模型服务用 .venv/bin/python -m drafting model stop 停止）"
exec .venv/bin/streamlit run app.py --server.address "$address" --server.port "${DRAFTING_PAGE_PORT:-8501}" \
  --server.headless true --browser.gatherUsageStats false
