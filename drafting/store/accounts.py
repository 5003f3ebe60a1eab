"""Users and their API keys.

Passwords are kept as Argon2id hashes (argon2-cffi: salted, slow, the parameters inside the
hash, rehashed when the library's defaults grow). API keys are long random strings shown once;
only their SHA-256 is stored, which is enough for a secret of 256 random bits and lets a key
be found by its hash on every request.
"""
from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, Row, Select, delete, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from drafting.store.database import database_url, engine_for, reading, writing
from drafting.store.drafts import now
from drafting.store.schema import api_keys, sessions, users

KEY_PREFIX = "dk_"
MIN_PASSWORD = 8
SESSION_S = 12 * 3600  # a page sign-in lasts a working day
_NAME = re.compile(r"^[\w.@-]{1,64}$")
_hasher = PasswordHasher()


class AccountError(ValueError):
    """A request about accounts that cannot be done; the message is for the user, in Chinese."""


@dataclass(frozen=True)
class User:
    id: int
    name: str
    is_admin: bool


_USER = select(users.c.id, users.c.name, users.c.is_admin)


def _user(row: Row[Any]) -> User:
    return User(int(row.id), row.name, bool(row.is_admin))


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class Accounts:
    """The users and keys in the database at `where` (a SQLite path or a database URL)."""

    def __init__(self, where: str | Path) -> None:
        self.engine: Engine = engine_for(database_url(where))

    def configured(self) -> bool:
        """Whether any user exists: then the page asks for a sign-in and the API for a key."""
        with reading(self.engine) as conn:
            return bool(conn.scalar(select(exists().select_from(users))))

    def add_user(self, name: str, password: str, admin: bool = False) -> User:
        name = name.strip()
        if not _NAME.match(name):
            raise AccountError("用户名只能由字母、数字、汉字和 . _ - @ 组成，最长 64 个字符。")
        _check_password(password)
        try:
            with writing(self.engine) as conn:
                key = conn.execute(insert(users).values(name=name, password_hash=_hasher.hash(password),
                                                        is_admin=admin, created_at=now())).inserted_primary_key
        except IntegrityError:
            raise AccountError(f"用户 {name} 已存在。") from None
        assert key is not None
        return User(int(key[0]), name, admin)

    def set_password(self, name: str, password: str) -> None:
        _check_password(password)
        self._update(name, password_hash=_hasher.hash(password))

    def set_admin(self, name: str, admin: bool) -> None:
        self._update(name, is_admin=admin)

    def _update(self, name: str, **values: object) -> None:
        if not _NAME.match(name):  # no such user could exist (and PostgreSQL text cannot hold NUL)
            raise AccountError(f"没有用户 {name}。")
        with writing(self.engine) as conn:
            if conn.execute(update(users).where(users.c.name == name).values(**values)).rowcount == 0:
                raise AccountError(f"没有用户 {name}。")

    def _one(self, query: Select[Any]) -> User | None:
        """The user `query` (over `_USER`) finds, or None."""
        with reading(self.engine) as conn:
            row = conn.execute(query).first()
        return _user(row) if row else None

    def user(self, name: str) -> User | None:
        return self._one(_USER.where(users.c.name == name)) if _NAME.match(name) else None

    def list_users(self) -> list[User]:
        with reading(self.engine) as conn:
            return [_user(row) for row in conn.execute(_USER.order_by(users.c.id))]

    def authenticate(self, name: str, password: str) -> User | None:
        """The user when the password is theirs; None otherwise (the same time either way)."""
        row = None
        if _NAME.match(name.strip()):
            with reading(self.engine) as conn:
                row = conn.execute(select(users).where(users.c.name == name.strip())).first()
        stored = row.password_hash if row else _dummy_hash()  # an unknown name costs a verification too
        try:
            _hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        if row is None:
            return None
        if _hasher.check_needs_rehash(stored):
            self._update(row.name, password_hash=_hasher.hash(password))
        return _user(row)

    def create_key(self, name: str) -> str:
        """A new key for user `name`; it is returned once and only its hash is kept."""
        user = self.user(name)
        if user is None:
            raise AccountError(f"没有用户 {name}。请先用 users add {name} 添加。")
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        with writing(self.engine) as conn:
            conn.execute(insert(api_keys).values(user_id=user.id, key_hash=key_hash(key), created_at=now()))
        return key

    def revoke_key(self, key: str) -> bool:
        """Revoke `key`; False when no live key matches it."""
        with writing(self.engine) as conn:
            done = conn.execute(update(api_keys).where(api_keys.c.key_hash == key_hash(key.strip()),
                                                       api_keys.c.revoked_at.is_(None))
                                .values(revoked_at=now())).rowcount
        return done > 0

    def user_for_key(self, key: str) -> User | None:
        """The owner of a live key, or None."""
        return self._one(_USER.join(api_keys, api_keys.c.user_id == users.c.id)
                         .where(api_keys.c.key_hash == key_hash(key), api_keys.c.revoked_at.is_(None)))

    def start_session(self, user: User) -> str:
        """A new page sign-in for `user`: a token for the browser's cookie (only its hash is kept)."""
        token = secrets.token_urlsafe(32)
        with writing(self.engine) as conn:
            conn.execute(delete(sessions).where(sessions.c.expires < time.time()))
            conn.execute(insert(sessions).values(token_hash=key_hash(token), user_id=user.id,
                                                 expires=time.time() + SESSION_S))
        return token

    def user_for_session(self, token: str) -> User | None:
        """The user signed in with `token`, while the session lasts."""
        return self._one(_USER.join(sessions, sessions.c.user_id == users.c.id)
                         .where(sessions.c.token_hash == key_hash(token), sessions.c.expires > time.time()))

    def end_session(self, token: str) -> None:
        with writing(self.engine) as conn:
            conn.execute(delete(sessions).where(sessions.c.token_hash == key_hash(token)))

    def key_count(self, name: str) -> int:
        """Live keys of user `name`."""
        query = (select(func.count()).select_from(api_keys).join(users, api_keys.c.user_id == users.c.id)
                 .where(users.c.name == name, api_keys.c.revoked_at.is_(None)))
        with reading(self.engine) as conn:
            return int(conn.scalar(query) or 0)


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"密码至少 {MIN_PASSWORD} 个字符。")


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_hex(16))
