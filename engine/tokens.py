"""Bearer tokens for cookies (staff and portal sessions, portal login requests).

The browser holds the random token; the database holds only its SHA-256, so a copy of the database
cannot be replayed as a cookie.
"""

import hashlib
import secrets


def new_token() -> str:
    """A fresh random token (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """The hex SHA-256 stored in place of a token."""
    return hashlib.sha256(token.encode()).hexdigest()
