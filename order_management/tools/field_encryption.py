"""Encryption of chosen field values, with a key kept outside the database.

A value is sealed with AES-256-GCM under a 32-byte key read from a key file
(URL-safe base64, readable by its owner only), and stored as text:
``omenc1:`` then the URL-safe base64 of the key's identifier, a random nonce
and the ciphertext with its tag. The field's own name (``model.field``) is
the associated data, so a value moved to another field does not decrypt.

Values sealed this way cannot be compared in SQL: a keyed hash of a value
(:func:`fingerprint`) gives an exact-match token instead, revealing nothing
without the key. Plain functions: the models feed them the key and names.
"""

import base64
import binascii
import hashlib
import hmac
import secrets
import stat
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .key_files import KEY_SIZE, decode_key

PREFIX = "omenc1:"
FINGERPRINT_PREFIX = "omhash1:"
KEY_ID_SIZE = 8
NONCE_SIZE = 12


class FieldKeyError(Exception):
    """The key cannot be read, or is not the key a value was sealed with."""


# ------------------------------------------------------------------- keys --


# Keys read, by path: {path: (modification time, key)}. A list view decrypts
# many values; the file is read again only when it changes.
_KEYS = {}


def load_key(key_file):
    """Return the 32 key bytes of ``key_file``.

    :raise FieldKeyError: when no file is named, it cannot be read, other
        users may read it, or it holds no such key
    """
    if not key_file:
        raise FieldKeyError("no key file is configured")
    path = Path(key_file)
    try:
        status = path.stat()
        cached = _KEYS.get(str(path))
        if cached and cached[0] == status.st_mtime_ns:
            return cached[1]
        text = path.read_text()
    except OSError as error:
        raise FieldKeyError(f"cannot read the key file {path}: {error}") from error
    if status.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise FieldKeyError(f"the key file {path} is open to other users")
    key = decode_key(text)
    if key is None:
        raise FieldKeyError(
            f"the key file {path} does not hold {KEY_SIZE} bytes "
            "written as URL-safe base64"
        )
    _KEYS[str(path)] = (status.st_mtime_ns, key)
    return key


def key_id(key):
    """Return the identifier of ``key`` kept in each value (a keyed hash)."""
    return hmac.new(key, b"order-field key id", hashlib.sha256).digest()[:KEY_ID_SIZE]


# ----------------------------------------------------------------- values --


def is_encrypted(value):
    """Tell whether ``value`` is a sealed value, as the column holds it."""
    return isinstance(value, str) and value.startswith(PREFIX)


def encrypt(key, text, context):
    """Return ``text`` sealed under ``key`` for the field named ``context``."""
    nonce = secrets.token_bytes(NONCE_SIZE)
    sealed = AESGCM(key).encrypt(nonce, text.encode(), context.encode())
    token = base64.urlsafe_b64encode(key_id(key) + nonce + sealed).decode()
    return PREFIX + token


def decrypt(key, value, context):
    """Return the text sealed in ``value`` for the field named ``context``.

    :raise FieldKeyError: when ``value`` was sealed with another key
    :raise ValueError: when ``value`` is damaged or belongs to another field
    """
    try:
        raw = base64.urlsafe_b64decode(value[len(PREFIX) :].encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError) as error:
        raise ValueError("the encrypted value is damaged") from error
    if not hmac.compare_digest(raw[:KEY_ID_SIZE], key_id(key)):
        raise FieldKeyError("the value was encrypted with another key")
    nonce = raw[KEY_ID_SIZE : KEY_ID_SIZE + NONCE_SIZE]
    try:
        text = AESGCM(key).decrypt(
            nonce, raw[KEY_ID_SIZE + NONCE_SIZE :], context.encode()
        )
    except InvalidTag as error:
        raise ValueError(
            "the encrypted value is damaged or belongs to another field"
        ) from error
    return text.decode()


def fingerprint(key, text, context):
    """Return a keyed hash of ``text``: equal texts give equal fingerprints,
    and nothing of the text can be learnt from it without the key."""
    digest = hmac.new(key, f"{context}\0{text}".encode(), hashlib.sha256)
    return FINGERPRINT_PREFIX + digest.hexdigest()[:32]
