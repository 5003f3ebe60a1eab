"""Moving an office's history from one database to another — typically from the laptop's
SQLite file to the office server's PostgreSQL — with every row and id kept."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, insert, select, text

from drafting.store.database import database_url, engine_for, reading, shown_url, writing
from drafting.store.schema import api_keys, drafts, inputs, users

_TABLES = (users, api_keys, drafts, inputs)  # referenced tables first
_BATCH = 500


def copy_history(source: str | Path, target: str | Path) -> dict[str, int]:
    """Copy drafts, autosaves, users and keys from `source` into `target` (both migrated to the
    newest schema first); returns the rows copied per table. The target must hold no drafts and
    no users yet, so nothing there is overwritten or mixed up."""
    source_url, target_url = database_url(source), database_url(target)
    if source_url == target_url:
        raise ValueError("源数据库与目标数据库相同。")
    source_engine, target_engine = engine_for(source_url), engine_for(target_url)
    with reading(target_engine) as conn:
        taken = {t.name: int(conn.scalar(select(func.count()).select_from(t)) or 0) for t in (drafts, users)}
    if any(taken.values()):
        raise ValueError(f"目标数据库 {shown_url(target_url)} 里已有草稿或账号（{taken['drafts']} 份草稿、"
                         f"{taken['users']} 个账号），为免混淆不做合并。请换一个空的数据库。")
    copied: dict[str, int] = {}
    with reading(source_engine) as source_conn, writing(target_engine) as target_conn:
        for table in _TABLES:
            copied[table.name] = 0
            rows = source_conn.execute(select(table).order_by(*table.primary_key.columns))
            while batch := rows.fetchmany(_BATCH):
                target_conn.execute(insert(table), [dict(row._mapping) for row in batch])
                copied[table.name] += len(batch)
        if target_engine.dialect.name == "postgresql":  # ids go on after the copied ones
            for table in (users, api_keys, drafts):
                target_conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                         f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"))
    return copied
