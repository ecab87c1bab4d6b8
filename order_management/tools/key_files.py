"""Keys of 32 random bytes, kept as URL-safe base64 text in files of their own.

Backups and encrypted fields each have such a key; only what they refuse, and
how they say it, differs.
"""

import base64
import binascii
import os
import secrets
from pathlib import Path

KEY_SIZE = 32


def generate_key():
    """Return a new key as the text a key file holds."""
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_SIZE)).decode()


def decode_key(text):
    """Return the key bytes written in ``text``, or None when it holds no key."""
    try:
        key = base64.urlsafe_b64decode(text.strip().encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return None
    return key if len(key) == KEY_SIZE else None


def write_key_file(path):
    """Write a new key to ``path``, readable by its owner only; refuse to
    overwrite an existing file (what the old key sealed could no longer be
    read)."""
    path = Path(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(generate_key() + "\n")
    return path
