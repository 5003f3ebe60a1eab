"""The tables as the newest migration leaves them, for building queries (the migrations in
`migrations/versions` are the history of how they came to be)."""
from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Integer, MetaData, Table, Text

metadata = MetaData()
ID = BigInteger().with_variant(Integer(), "sqlite")

drafts = Table(
    "drafts", metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("created_at", Text, nullable=False),
    Column("parent_id", ID),
    Column("kind", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("facts_text", Text, nullable=False),
    Column("request", Text, nullable=False),  # JSON
    Column("result", Text, nullable=False),  # JSON
    Column("check_report", Text, nullable=False),  # JSON
    Column("ok", Integer, nullable=False),
    Column("unsupported", Integer, nullable=False),
    Column("missing", Integer, nullable=False),
    Column("status", Text, nullable=False),
    Column("error", Text, nullable=False),
    Column("request_id", Text, nullable=False),
    Column("owner", Text, nullable=False),  # host:pid of the process drafting an unfinished row
    Column("user_id", ID),  # the account it belongs to; empty without accounts
)

inputs = Table(
    "inputs", metadata,
    Column("key", Text, primary_key=True),
    Column("data", Text, nullable=False),  # JSON
    Column("updated_at", Text, nullable=False),
)

users = Table(
    "users", metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("name", Text, nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("is_admin", Boolean, nullable=False),
    Column("created_at", Text, nullable=False),
)

api_keys = Table(
    "api_keys", metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("user_id", ID, nullable=False),
    Column("key_hash", Text, nullable=False, unique=True),
    Column("created_at", Text, nullable=False),
    Column("revoked_at", Text),
)
