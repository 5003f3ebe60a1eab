"""Prompt templates live in `prompts/` as plain files: `### system` and `### user` parts with
`$name` placeholders (`string.Template`), so that editing a prompt never means editing code."""
from __future__ import annotations

from functools import cache
from string import Template

from drafting.config import PROMPTS_DIR


@cache
def load_parts(name: str) -> dict[str, Template]:
    """All `### part` blocks of `prompts/<name>.txt` as templates."""
    path = PROMPTS_DIR / f"{name}.txt"
    parts: dict[str, list[str]] = {}
    current: str | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("### "):
            current = line[4:].strip()
            parts[current] = []
        elif current is not None:
            parts[current].append(line)
    return {key: Template("\n".join(lines).strip()) for key, lines in parts.items()}


def render(name: str, **values: object) -> tuple[str, str]:
    """Return (system, user) of prompt `name` with `values` substituted; a missing value is an error."""
    template = load_parts(name)
    if "system" not in template or "user" not in template:
        raise ValueError(f"prompt {name} needs '### system' and '### user' parts")
    text_values = {k: str(v) for k, v in values.items()}
    return template["system"].substitute(text_values), template["user"].substitute(text_values)


def fill(name: str, part: str, **values: object) -> str:
    """One filled part of a template file (e.g. the fixed opening of `frame.txt`)."""
    return load_parts(name)[part].substitute({k: str(v) for k, v in values.items()})
