"""The route of one draft through the code: which `drafting` modules it enters, in order.

    .venv/bin/python bench/route.py [--face api|page]

Drafts three bullets with a fake model (in-process, no network) through the HTTP API (TestClient)
or the page's background job, records every call that crosses from one module to another
(sys.setprofile and threading.setprofile), and prints the modules in the order they are first entered, with how many
times each was entered and how many times the planner ran. Run it on two checkouts to compare.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

FACTS = ["新建非公企业工会8家，新发展会员1200名", "春节走访慰问困难职工120户，发放慰问金36万元", "金秋助学资助困难职工子女15名"]


def _echo(body: dict) -> str:
    prompt = body.get("prompt") or body["messages"][-1]["content"]
    return "".join(f"{line[2:]}。" for line in prompt.splitlines() if line.startswith("- "))


def record(run) -> tuple[list[str], Counter[str], int]:
    entered: list[str] = []
    counts: Counter[str] = Counter()
    plans = 0

    def profile(frame, event, _arg):
        nonlocal plans
        if event != "call":
            return
        module = frame.f_globals.get("__name__", "")
        caller = frame.f_back.f_globals.get("__name__", "") if frame.f_back else ""
        if frame.f_code.co_name == "plan" and module.endswith("plan"):
            plans += 1
        if module.startswith("drafting") and module != caller:
            counts[module] += 1
            if module not in entered:
                entered.append(module)

    sys.setprofile(profile)
    threading.setprofile(profile)  # the API and the page draft in worker threads
    try:
        run()
    finally:
        sys.setprofile(None)
        threading.setprofile(None)  # type: ignore[arg-type]
    return entered, counts, plans


def main() -> int:
    parser = argparse.ArgumentParser(description="一篇初稿经过的模块")
    parser.add_argument("--face", choices=("api", "page"), default="api")
    args = parser.parse_args()
    os.environ["DRAFTING_DATA_DIR"] = tempfile.mkdtemp()
    from tests.fake_llm import FakeLLM

    with FakeLLM(reply=_echo) as fake:
        os.environ.update(DRAFTING_LLM_BASE_URL=fake.base_url, DRAFTING_LLM_MODEL="fake-model")
        body = {"org": "东湖街道总工会", "period": "上半年", "year": 2024, "facts": FACTS, "options": {"examples": 0}}
        if args.face == "api":
            from fastapi.testclient import TestClient

            from tests.api_support import client

            api: TestClient = client()
            api.__enter__()
            run = lambda: api.post("/v1/drafts", json=body)
        else:
            run = _page_run(body)
        entered, counts, plans = record(run)
    print(json.dumps({"face": args.face, "modules_in_order": entered,
                      "entries": dict(counts), "planner_runs": plans}, ensure_ascii=False, indent=1))
    return 0


def _page_run(body: dict):
    try:
        from drafting import service
        from drafting.page import jobs
        from drafting.store import get_store

        def run() -> None:
            work = service.intake_json(body)
            jobs.start_draft(get_store(), work, service.outline(work), None).join(60)
    except ImportError:  # the layout before the service
        from drafting import jobs  # type: ignore[no-redef]
        from drafting.plan import plan
        from drafting.request import request_from_json
        from drafting.store import get_store

        def run() -> None:
            request = request_from_json(body)
            jobs.start_draft(get_store(), request, plan(request), "").join(60)
    return run


if __name__ == "__main__":
    sys.exit(main())
