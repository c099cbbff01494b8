"""Members of the study group and their personal links.

A link carries a random token (32 bytes, URL-safe); the store keeps only its hash, so a
copy of the server's files lets no one in. Opening the link once exchanges the token for a
session cookie; ``submit.py`` sends the token itself. A member's name is their id in the
gradebook and in the folders of their uploads, so it is a short plain name.
"""
from __future__ import annotations

import re
import secrets
import sqlite3

from .store import Member, Store

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")


class MemberError(ValueError):
    """A member command that cannot be done; the message says why and what to do."""


def new_token() -> str:
    """A random token that does not start with "-": a command line would read that one as an
    option (``submit.py --token -Xy...``)."""
    while (token := secrets.token_urlsafe(32)).startswith("-"):
        pass
    return token


def link(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/login?token={token}"


def check_name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise MemberError(f"'{name}' cannot be a member's name: use 1 to 40 letters, digits, "
                          f"'_', '.' or '-', starting with a letter or digit")
    return name


def add_member(store: Store, name: str, organizer: bool = False) -> tuple[Member, str]:
    """The new member and their token (shown once: only its hash is kept)."""
    check_name(name)
    token = new_token()
    try:
        return store.add_member(name, token, organizer), token
    except sqlite3.IntegrityError:
        raise MemberError(f"'{name}' is already a member; `members link {name}` gives them "
                          f"a new link") from None


def new_link(store: Store, name: str) -> str:
    """A new token for ``name``: their old link and sessions stop working."""
    token = new_token()
    if not store.replace_token(name, token):
        raise MemberError(f"'{name}' is not a member; `members add {name}` adds them")
    return token
