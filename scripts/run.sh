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
# The port the page will really serve on: DRAFTING_PAGE_PORT as given (taken: an error), else 8501
# or, when another program holds it, the next free port — printed before the server starts.
port=${DRAFTING_PAGE_PORT:-}
if [[ -z "$port" ]]; then
  port=$(.venv/bin/python - "$address" <<'PY'
import socket, sys
for port in range(8501, 8600):
    with socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET) as s:
        try:
            s.bind((sys.argv[1], port))
        except OSError:
            continue
        print(port)
        break
PY
)
  [[ "$port" == 8501 ]] || echo "提示：端口 8501 已被其他程序占用，改用 $port"
fi
echo "== 起草页面：http://$address:$port （Ctrl+C 退出；内置模型服务用 .venv/bin/python -m drafting model stop 停止）"
exec .venv/bin/streamlit run app.py --server.address "$address" --server.port "$port" \
  --server.headless true --browser.gatherUsageStats false
