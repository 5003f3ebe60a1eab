"""Settings of the HTTP API (environment variables, read once per app).

The bearer key itself comes from `config.get_settings().api_key` (`DRAFTING_API_KEY`); the
rest are the service's limits: body size, the model queue and the per-draft deadline.
"""
from __future__ import annotations

from dataclasses import dataclass

from drafting.config import _environment, _float, _int, _lookup, get_settings


@dataclass(frozen=True)
class ApiSettings:
    api_key: str | None
    max_body_bytes: int  # larger request bodies get 413
    model_slots: int  # generations at once across every worker process (the embedded server: 1)
    queue_size: int  # requests waiting for a slot in one process; more get 429
    queue_wait: float  # seconds a request may wait for a slot; then 503
    draft_timeout: float  # seconds for one draft; then the plain fallback
    retries: int  # whole-draft retries after a transient model error
    retry_backoff: float  # seconds before the first retry, doubled each time
    cors_origins: tuple[str, ...]  # empty: no cross-origin browser access


def load_api_settings() -> ApiSettings:
    env = _environment()
    return ApiSettings(
        api_key=get_settings().api_key,
        max_body_bytes=_int(env, "DRAFTING_API_MAX_BODY", 1_048_576),
        model_slots=max(1, _int(env, "DRAFTING_API_MODEL_SLOTS", 1)),
        queue_size=max(0, _int(env, "DRAFTING_API_QUEUE_SIZE", 8)),
        queue_wait=_float(env, "DRAFTING_API_QUEUE_WAIT", 300.0),
        draft_timeout=_float(env, "DRAFTING_API_DRAFT_TIMEOUT", 900.0),
        retries=max(0, _int(env, "DRAFTING_API_RETRIES", 1)),
        retry_backoff=_float(env, "DRAFTING_API_RETRY_BACKOFF", 1.0),
        cors_origins=tuple(o.strip() for o in (_lookup(env, "DRAFTING_API_CORS_ORIGINS") or "").split(",") if o.strip()),
    )
