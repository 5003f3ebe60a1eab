"""The tables as the newest migration leaves them, for building queries (the migrations in
`migrations/versions` are the history of how they came to be)."""
from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Float, Integer, MetaData, Table, Text

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

# The model queue (drafting.model.gate): one row per request waiting for, holding or reserving a turn.
gate_places = Table(
    "gate_places", metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("host", Text, nullable=False),
    Column("pid", Integer, nullable=False),
    Column("queued", Float, nullable=False),  # epoch seconds
    Column("granted", Float),  # holding a slot since
    Column("reserved_until", Float),  # a refused request's turn, kept until then (NULL: in the queue)
    Column("heartbeat", Float, nullable=False),  # its process was alive then
    Column("holder", Text, nullable=False),  # who may claim a reserved turn ("user:7", "admin"; "" anyone)
)

gate_measures = Table(
    "gate_measures", metadata,
    Column("name", Text, primary_key=True),
    Column("value", Float, nullable=False),
)

sessions = Table(
    "sessions", metadata,
    Column("token_hash", Text, primary_key=True),  # sha256 of the cookie's token
    Column("user_id", ID, nullable=False),
    Column("expires", Float, nullable=False),  # epoch seconds
)
