"""Officer PINs: salted PBKDF2 hashes in the site config, never the PIN itself.

The format is Django's (`pbkdf2_sha256$<iterations>$<salt>$<hash>`), so a
technician recognises it and the work factor can grow without a migration: the
iterations travel inside each hash.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

SCHEME = "pbkdf2_sha256"
ITERATIONS = 200_000  # ~0.1 s on a small PC: cheap for one sign-in, slow for guessing every 6-digit PIN
PIN_PATTERN = re.compile(r"^[0-9]{4,12}$")  # digits only: typed on a USB numeric keypad
HASH_PATTERN = re.compile(r"^pbkdf2_sha256\$[0-9]{1,7}\$[A-Za-z0-9+/=._-]{8,64}\$[A-Za-z0-9+/=]{40,64}$")


def _derive(pin: str, salt: str, iterations: int) -> str:
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode("utf-8"), salt.encode("ascii"), iterations)
    return base64.b64encode(digest).decode("ascii")


def hash_pin(pin: str, *, iterations: int = ITERATIONS, salt: str | None = None) -> str:
    """A new salted hash of `pin`, for `pin_hash = "..."` in the site config."""
    if not PIN_PATTERN.match(pin):
        raise ValueError("a PIN is 4 to 12 digits (so it can be typed on a numeric keypad)")
    salt = salt or secrets.token_hex(12)
    return f"{SCHEME}${iterations}${salt}${_derive(pin, salt, iterations)}"


def is_pin_hash(text: str) -> bool:
    return bool(HASH_PATTERN.match(text))


def verify_pin(pin: str, pin_hash: str) -> bool:
    """True when `pin` matches; a malformed hash or PIN never matches and never raises."""
    if not isinstance(pin, str) or not PIN_PATTERN.match(pin) or not is_pin_hash(pin_hash):
        return False
    _, iterations, salt, expected = pin_hash.split("$")
    return hmac.compare_digest(_derive(pin, salt, int(iterations)), expected)
