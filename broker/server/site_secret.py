"""The site's secret in the data folder: it keys the phone survey links and the sign-in challenges."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

SECRET_FILE = "survey-secret.key"  # the name it has had since the survey came; kept so links stay valid


def load_secret(data_dir: str | Path) -> bytes:
    """The site's secret, created on first use in the data folder (readable by the owner only)."""
    path = Path(data_dir) / SECRET_FILE
    try:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(secret.hex() + "\n")
    return secret
