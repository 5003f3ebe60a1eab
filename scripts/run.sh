#!/usr/bin/env bash
# The main job: set everything up (idempotent), start the embedded model, open the drafting page
# on http://127.0.0.1:8501. With DRAFTING_LLM_BASE_URL set, the configured endpoint is used instead.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
if [[ -z "${DRAFTING_LLM_BASE_URL:-}${OPENAI_BASE_URL:-}" ]]; then
  .venv/bin/python -m drafting model start
fi
echo "== 起草页面：http://127.0.0.1:8501 （Ctrl+C 退出；内置模型服务用 .venv/bin/python -m drafting model stop 停止）"
exec .venv/bin/streamlit run app.py --server.address 127.0.0.1 --server.port "${DRAFTING_PAGE_PORT:-8501}" \
  --server.headless true --browser.gatherUsageStats false
