"""Officer PINs: salted PBKDF2 hashes in the site config, never the PIN itself.

The format is Django's (`pbkdf2_sha256$<iterations>$<salt>$<hash>`), so a
technician recognises it and the work factor can grow without a migration: the
iterations travel inside each hash.

A PIN never travels either. To sign in, the counter panel gets a challenge from the
engine (a nonce, the hash's salt and iterations), derives the PBKDF2 key from the typed
PIN itself and sends `sign_in_proof`: an HMAC of the nonce, site, counter and officer
under that key. The engine computes the same HMAC from the stored hash, a cheap
operation, so no PBKDF2 runs on its single writer thread (docs/protocol.md, "Signing in").
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


MAX_ITERATIONS = 9_999_999  # what HASH_PATTERN allows; a device refuses a challenge asking for more


def derive_key(pin: str, salt: str, iterations: int) -> bytes:
    """The PBKDF2 key of a PIN: what a hash stores (base64) and what a sign-in proof is keyed with."""
    return hashlib.pbkdf2_hmac("sha256", pin.encode("utf-8"), salt.encode("ascii"), iterations)


def _derive(pin: str, salt: str, iterations: int) -> str:
    return base64.b64encode(derive_key(pin, salt, iterations)).decode("ascii")


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


def hash_parts(pin_hash: str) -> tuple[int, str, bytes] | None:
    """(iterations, salt, key) of a well-formed hash, else None."""
    if not is_pin_hash(pin_hash):
        return None
    _, iterations, salt, encoded = pin_hash.split("$")
    try:
        return int(iterations), salt, base64.b64decode(encoded, validate=True)
    except ValueError:
        return None


def sign_in_proof(key: bytes, site: str, counter: str, officer: str, nonce: str) -> str:
    """What a counter panel sends instead of the PIN: bound to this site, counter, officer and challenge."""
    text = "|".join(("antrian-sign-in", site, counter, officer, nonce))
    mac = hmac.new(key, text.encode("utf-8", "surrogatepass"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode("ascii").rstrip("=")


def proof_matches(pin_hash: str, site: str, counter: str, officer: str, nonce: str, proof: object) -> bool:
    """Whether `proof` was made from the PIN of `pin_hash`; anything malformed is simply no match."""
    parts = hash_parts(pin_hash)
    if parts is None or not isinstance(proof, str):
        return False
    expected = sign_in_proof(parts[2], site, counter, officer, nonce)
    return hmac.compare_digest(expected.encode("ascii"), proof.encode("utf-8", "surrogatepass"))
