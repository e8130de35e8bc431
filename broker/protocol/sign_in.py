"""The device's half of signing in: answer the engine's challenge without sending the PIN.

A counter panel asks `{"action": "sign-in-challenge", "officer": ...}`; the reply's
`challenge` holds a nonce and the salt and iterations of the officer's PIN hash.
`sign_in_body` derives the PIN's PBKDF2 key here, on the device (a few tenths of a
second on a small PC), and returns the `sign-in` command: the nonce and an HMAC proof.
The PIN itself leaves nothing behind but that proof (docs/protocol.md, "Signing in").
"""

from __future__ import annotations

from typing import Any

from broker.core.pin import MAX_ITERATIONS, PIN_PATTERN, SCHEME, derive_key, hash_pin, sign_in_proof

# PIN_PATTERN and hash_pin are for `antrian counter hash-pin`
__all__ = ["PIN_PATTERN", "BadChallenge", "hash_pin", "sign_in_body"]


class BadChallenge(ValueError):
    """A challenge this device will not answer (not ours, or asking for absurd work)."""


def sign_in_body(pin: str, challenge: Any, site: str, counter: str) -> dict[str, str]:
    """The `sign-in` command that answers `challenge` with the typed `pin`; raises BadChallenge."""
    if not isinstance(challenge, dict):
        raise BadChallenge("the engine's reply has no challenge")
    officer, nonce, salt = challenge.get("officer"), challenge.get("nonce"), challenge.get("salt")
    iterations = challenge.get("iterations")
    if challenge.get("scheme") != SCHEME or not (isinstance(officer, str) and isinstance(nonce, str)
                                                 and isinstance(salt, str) and officer and nonce and salt):
        raise BadChallenge(f"a challenge of an unknown kind: {challenge.get('scheme')!r}")
    if not isinstance(iterations, int) or not 1 <= iterations <= MAX_ITERATIONS:
        raise BadChallenge(f"a challenge asking for {iterations!r} iterations")
    key = derive_key(pin, salt, iterations)
    return {"action": "sign-in", "officer": officer, "nonce": nonce,
            "proof": sign_in_proof(key, site, counter, officer, nonce)}
