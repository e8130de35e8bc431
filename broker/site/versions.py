"""The site config's history: every config the engine took from the control room, numbered, with a diff.

A version is the whole TOML text, kept as `config-versions/NNNN.toml` in the data folder with a
`NNNN.json` beside it (who, when, why, its sha256). Nothing here decides whether a text is good:
the control room checks it with parse_config and the engine takes it or refuses it; only a config
the engine took is recorded. A roll back is a new version whose text is an old one's.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

FOLDER = "config-versions"
_NAME = re.compile(r"^(\d{4,})\.toml$")


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text` so that a reader sees the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


@dataclass(frozen=True)
class Version:
    number: int
    text: str
    by: str
    ts: float
    note: str
    sha256: str


class ConfigVersions:
    """The numbered history in one data folder."""

    def __init__(self, data_dir: str | Path):
        self.folder = Path(data_dir) / FOLDER

    def numbers(self) -> list[int]:
        if not self.folder.is_dir():
            return []
        return sorted(int(m.group(1)) for p in self.folder.iterdir() if (m := _NAME.match(p.name)))

    def get(self, number: int) -> Version | None:
        path = self.folder / f"{number:04d}.toml"
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None
        try:
            meta = json.loads((self.folder / f"{number:04d}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            meta = {}
        if not isinstance(meta, dict):
            meta = {}
        return Version(number, text, str(meta.get("by", "")), float(meta.get("ts", 0) or 0),
                       str(meta.get("note", "")), sha256(text))

    def latest(self) -> Version | None:
        numbers = self.numbers()
        return self.get(numbers[-1]) if numbers else None

    def history(self) -> list[Version]:
        """Every version, newest first."""
        return [v for n in reversed(self.numbers()) if (v := self.get(n)) is not None]

    def record(self, text: str, by: str, note: str = "", ts: float | None = None) -> Version:
        """Keep `text` as the next version (the same text as the latest is not kept twice)."""
        latest = self.latest()
        if latest is not None and latest.text == text:
            return latest
        number = (latest.number if latest else 0) + 1
        ts = time.time() if ts is None else ts
        self.folder.mkdir(parents=True, exist_ok=True)
        write_atomically(self.folder / f"{number:04d}.json",
                         json.dumps({"by": by, "ts": ts, "note": note, "sha256": sha256(text)}, ensure_ascii=False))
        write_atomically(self.folder / f"{number:04d}.toml", text)  # last: a version exists once its text does
        return Version(number, text, by, ts, note, sha256(text))

    def ensure_first(self, text: str, by: str = "", ts: float | None = None) -> Version:
        """The config in force before any change from the browser becomes version 1, so it can be rolled back to."""
        return self.latest() or self.record(text, by, "awal / initial", ts)


def diff(old: str, new: str, old_name: str = "lama", new_name: str = "baru") -> list[str]:
    """The unified diff of two config texts, line by line (no line endings)."""
    return list(difflib.unified_diff(old.splitlines(), new.splitlines(), old_name, new_name, lineterm="", n=2))


def candidate_path(config_path: str | Path) -> Path:
    """Where the control room puts a checked config for the engine to take (`reload_config`): beside the
    config file, so the engine, the only one to replace that file, moves it in place atomically."""
    path = Path(config_path)
    return path.with_name(f".{path.name}.baru")
