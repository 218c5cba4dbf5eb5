"""Local accounts for the review screen: bcrypt-hashed passwords, a role and an active flag."""

from __future__ import annotations

import bcrypt
from sqlalchemy import select
from sqlalchemy.orm import Session

from store.audit import record as audit
from store.schema import User

ROLES = ("kcc", "admin")
MIN_PASSWORD = 10
#: Checked against when the user does not exist, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = bcrypt.hashpw(b"not a password", bcrypt.gensalt()).decode()


class UserError(Exception):
    """A refusal phrased for the person at the command line."""


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt()).decode("ascii")


def find(session: Session, username: str) -> User | None:
    return session.scalars(select(User).where(User.username == username)).first()


def add_user(session: Session, username: str, password: str, role: str = "kcc", actor: str = "cli") -> User:
    """Create an account, or set a new password/role and re-activate an existing one."""
    username = username.strip()
    if not username or len(username) > 100 or any(c.isspace() for c in username):
        raise UserError("username must be 1-100 characters without spaces")
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise UserError(f"password must be at least {MIN_PASSWORD} characters")
    if len(password.encode("utf-8")) > 72:
        raise UserError("password must be at most 72 bytes (a bcrypt limit)")
    user = find(session, username)
    if user is None:
        user = User(username=username, password_hash=hash_password(password), role=role, active=True)
        session.add(user)
        session.flush()
        audit(session, actor, "user_added", "user", user.id, "role", None, role)
        return user
    if user.role != role:
        audit(session, actor, "user_changed", "user", user.id, "role", user.role, role)
    if not user.active:
        audit(session, actor, "user_changed", "user", user.id, "active", False, True)
    user.password_hash, user.role, user.active = hash_password(password), role, True
    audit(session, actor, "password_set", "user", user.id)
    return user


def disable_user(session: Session, username: str, actor: str = "cli") -> User:
    user = find(session, username)
    if user is None:
        raise UserError(f"no user named {username!r}")
    if user.active:
        user.active = False
        audit(session, actor, "user_changed", "user", user.id, "active", True, False)
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this name and password, else None (same work either way)."""
    user = find(session, username.strip()) if username else None
    hashed = user.password_hash if user is not None else _DUMMY_HASH
    try:
        ok = bcrypt.checkpw(password.encode("utf-8")[:72], hashed.encode("ascii"))
    except ValueError:
        ok = False
    if user is None or not ok or not user.active:
        return None
    return user
