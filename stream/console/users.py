"""Console users: a name, a role and a password stored as an scrypt hash (RFC 7914, from the standard
library), in a JSON file (``HUIYAN_CONSOLE_USERS_FILE``) that ``huiyan console user add`` writes.

Roles, each including the ones before: ``viewer`` (read), ``reviewer`` (record verdicts), ``admin``
(save candidate policies and push them as shadow policies).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Final, Literal, get_args

Role = Literal["viewer", "reviewer", "admin"]
ROLES: Final = get_args(Role)
# scrypt cost: 2^15 x 8 x 1, about 32 MiB and tens of milliseconds per login.
N, R, P = 2**15, 8, 1


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: Role
    salt: str
    hash: str
    n: int = N
    r: int = R
    p: int = P

    def can(self, role: Role) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=128 * 1024 * 1024, dklen=32
    )


def make_user(name: str, role: str, password: str) -> User:
    if role not in ROLES:
        raise ValueError(f"role {role!r}: expected one of {', '.join(ROLES)}")
    if len(password) < 10:
        raise ValueError("a password needs at least 10 characters")
    salt = secrets.token_bytes(16)
    checked: Role = role  # type: ignore[assignment]
    return User(name, checked, salt.hex(), _scrypt(password, salt, N, R, P).hex())


def check_password(user: User, password: str) -> bool:
    found = _scrypt(password, bytes.fromhex(user.salt), user.n, user.r, user.p)
    return hmac.compare_digest(found.hex(), user.hash)


def read_users(path: Path) -> dict[str, User]:
    if not path.exists():
        return {}
    doc = json.loads(path.read_text("utf-8"))
    return {entry["name"]: User(**entry) for entry in doc["users"]}


def write_users(path: Path, users: dict[str, User]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps({"users": [asdict(u) for u in users.values()]}, indent=2) + "\n", "utf-8")
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)


def add_user(path: Path, name: str, role: str, password: str) -> User:
    users = read_users(path)
    user = make_user(name, role, password)
    users[name] = user
    write_users(path, users)
    return user
