"""Drafts, the autosaved input and the accounts, in one database (SQLite by default,
PostgreSQL by `DRAFTING_DATABASE_URL`), migrated by Alembic on first use."""
from drafting.config import get_settings
from drafting.store.accounts import AccountError, Accounts, User
from drafting.store.drafts import (
    ACCEPTED,
    DONE,
    FAILED,
    INTERRUPTED,
    INTERRUPTED_MESSAGE,
    KIND_ZH,
    KINDS,
    RUNNING,
    STATUSES,
    Draft,
    DraftSummary,
    Store,
)

__all__ = ["ACCEPTED", "DONE", "FAILED", "INTERRUPTED", "INTERRUPTED_MESSAGE", "KINDS", "KIND_ZH", "RUNNING",
           "STATUSES", "AccountError", "Accounts", "Draft", "DraftSummary", "Store", "User", "get_accounts",
           "get_store"]


def get_store() -> Store:
    """The history in the configured database."""
    return Store(get_settings().database_url)


def get_accounts() -> Accounts:
    """The users and keys in the configured database."""
    return Accounts(get_settings().database_url)
