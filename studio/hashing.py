"""The stored form of a secret handed out once (API tokens, client review links)."""

import hashlib


def hash_secret(secret: str) -> str:
    """Return the stored form of a secret: its SHA-256, since secrets are long and random."""
    return hashlib.sha256(secret.encode()).hexdigest()
