"""deploy/ stays in step with the code it runs: every command in the compose file parses with
today's command line, the model file is the one the set-up assembles, and every variable of the
example configuration is one the service reads. (The images themselves cannot be pulled here;
tests/test_office.py runs the same topology natively.)"""
from __future__ import annotations

import re

import yaml

from drafting.cli import build_parser
from drafting.config import EMBEDDED_MODEL_ALIAS, EMBEDDED_MODEL_FILE, REPO_ROOT

DEPLOY = REPO_ROOT / "deploy"


def test_the_compose_commands_are_todays_commands() -> None:
    services = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))["services"]
    assert {"postgres", "chroma", "index", "model-cpu", "model-gpu", "api", "page"} <= services.keys()
    for name in ("api", "index"):
        command = services[name]["command"]
        assert command[:3] == ["python", "-m", "drafting"]
        args = [re.sub(r"\$\{\w+:-(\w+)\}", r"\1", a) for a in command[3:]]
        build_parser().parse_args(args)  # exits (fails the test) on an unknown command or option
    model = services["model-cpu"]["command"]
    assert f"data/models/{EMBEDDED_MODEL_FILE}" in model and EMBEDDED_MODEL_ALIAS in model
    assert services["page"]["command"][:3] == ["streamlit", "run", "app.py"]


def test_the_example_configuration_names_only_settings_the_service_reads() -> None:
    read = (REPO_ROOT / "drafting" / "config.py").read_text(encoding="utf-8")
    names = re.findall(r"^#?\s*(DRAFTING_\w+)=", (DEPLOY / "office.env.example").read_text(encoding="utf-8"), re.M)
    assert len(names) >= 10
    for name in names:
        assert f'"{name}"' in read, name
