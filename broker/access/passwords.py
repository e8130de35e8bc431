"""Device passwords, hashed the way Mosquitto 2 reads them (`$7$`: PBKDF2-HMAC-SHA512).

The line devices.toml keeps goes into Mosquitto's password file unchanged, and the
policy checks it in Python the same way, so a device's password is set once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

ITERATIONS = 20_000  # Mosquitto checks every CONNECT with this; ~10 ms on a Raspberry Pi 4
SALT_BYTES = 12  # what mosquitto_passwd uses
HASH_PATTERN = re.compile(r"^\$7\$[0-9]{1,7}\$[A-Za-z0-9+/=]{8,64}\$[A-Za-z0-9+/=]{80,100}$")


def _derive(password: str, salt: bytes, iterations: int) -> str:
    digest = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, iterations)
    return base64.b64encode(digest).decode("ascii")


def hash_password(password: str, *, iterations: int = ITERATIONS) -> str:
    """A new salted `$7$<iterations>$<salt>$<hash>` line part, as `mosquitto_passwd` writes it."""
    salt = secrets.token_bytes(SALT_BYTES)
    return f"$7${iterations}${base64.b64encode(salt).decode('ascii')}${_derive(password, salt, iterations)}"


def is_password_hash(text: str) -> bool:
    return bool(HASH_PATTERN.match(text))


def verify_password(password: str | None, password_hash: str) -> bool:
    """True when `password` matches; a missing password or a malformed hash never matches and never raises."""
    if not isinstance(password, str) or not is_password_hash(password_hash):
        return False
    _, _, iterations, salt, expected = password_hash.split("$")
    try:
        return hmac.compare_digest(_derive(password, base64.b64decode(salt), int(iterations)), expected)
    except ValueError:
        return False


def new_password() -> str:
    """A random password a technician can type from a printout: 20 letters and digits, no look-alikes."""
    alphabet = "abcdefghjkmnpqrstuvwxyzACDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(20))
