"""Secrets handed out in links and headers: made here, stored only as their hash."""

import hashlib
import secrets


def new_secret(prefix: str = "") -> str:
    """Return a fresh unguessable secret (256 bits), with an optional readable prefix."""
    return prefix + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    """Return the stored form of a secret: its sha256, so a leaked table holds no usable link."""
    return hashlib.sha256(secret.encode()).hexdigest()
