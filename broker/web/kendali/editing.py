"""Editing the site config from the control room's forms: pure functions over the TOML text.

The config file is a technician's hand-written TOML with comments in two languages; tomlkit changes the
one entry a form edits and leaves every other line, comment and blank as it was. Whether the result is
good is decided by the same checker as `antrian config check` (broker.site.config.parse_config); its
problems are sorted here to the form field they name, so the page shows each beside its field.

Who may edit what (`may_edit`): an admin everything; a koordinator only its own agency's services,
counters and officers, never moved to another agency nor tied to another agency's services or counters;
a pimpinan nothing.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

import tomlkit
from tomlkit.items import AoT, Table

from broker.access.staff import Role, StaffUser
from broker.core.model import Service
from broker.core.pin import PIN_PATTERN, hash_pin
from broker.core.schedule import parse_day
from broker.site.config import ConfigError, Problem, SiteConfig, parse_config

TABLES = ("agencies", "services", "counters", "officers", "closures")
KEYS = {"agencies": "id", "services": "code", "counters": "id", "officers": "id"}  # closures: by their number
COORDINATED = ("services", "counters", "officers")  # what a koordinator may edit, in its own agency


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # text, area, int, bool, days, list, per_day, agency, kind, pin, day
    default: Any = None


def _fields() -> dict[str, tuple[Field, ...]]:
    schedule = (Field("days", "days"), Field("hours", "text"), Field("per_day", "per_day"))
    services = [Field("code", "text"), Field("name", "text"), Field("name_en", "text"), Field("agency", "agency"),
                *schedule, Field("quota", "int"), Field("priority", "bool", True), Field("notice", "area"),
                Field("requirements", "area")]
    if "target_wait_min" in {f.name for f in dataclasses.fields(Service)}:  # the live dashboard's target
        services.append(Field("target_wait_min", "int"))
    return {
        "agencies": (Field("id", "text"), Field("name", "text"), Field("short", "text"), Field("kind", "kind"),
                     *schedule),
        "services": tuple(services),
        "counters": (Field("id", "text"), Field("name", "text"), Field("agency", "agency"), Field("zone", "text"),
                     Field("services", "list")),
        "officers": (Field("id", "text"), Field("name", "text"), Field("agency", "agency"),
                     Field("counters", "list"), Field("pin", "pin")),
        "closures": (Field("date", "day"), Field("from", "day"), Field("to", "day"), Field("reason", "text"),
                     Field("reason_en", "text"), Field("agencies", "list")),
    }


FIELDS = _fields()


class EditRefused(Exception):
    """The user may not make this change; `key` names the sentence (broker.web.kendali.settings.TEXTS)."""

    def __init__(self, key: str, field: str = "", **params: Any):
        super().__init__(key)
        self.key, self.field, self.params = key, field, params


def is_day_key(key: str) -> bool:
    try:
        parse_day(key)
    except ValueError:
        return False
    return key not in ("days",)


def entries(doc: Any, table: str) -> list[Any]:
    found = doc.get(table)
    return list(found) if isinstance(found, (list, AoT)) else []


def find(doc: Any, table: str, key: str) -> int | None:
    """The index of the entry `key` names in `table` (a closure by its number, 1 first), or None."""
    items = entries(doc, table)
    if table == "closures":
        return int(key) - 1 if key.isdigit() and 1 <= int(key) <= len(items) else None
    for i, entry in enumerate(items):
        if isinstance(entry, dict) and str(entry.get(KEYS[table], "")) == key:
            return i
    return None


def entry_agency(config: SiteConfig | None, table: str, entry: dict[str, Any]) -> str:
    if table in ("services", "counters", "officers"):
        return str(entry.get("agency", ""))
    if table == "agencies":
        return str(entry.get("id", ""))
    return ""


def may_edit(user: StaffUser, table: str, agency: str) -> bool:
    if user.role == Role.ADMIN:
        return True
    return user.role == Role.KOORDINATOR and table in COORDINATED and bool(agency) and agency == user.agency


def form_values(table: str, entry: dict[str, Any] | None) -> dict[str, str]:
    """What an entry's form fields show."""
    entry = entry or {}
    values: dict[str, str] = {}
    for f in FIELDS[table]:
        if f.kind == "per_day":
            values[f.name] = "; ".join(f"{k} = {v}" for k, v in entry.items() if is_day_key(str(k)))
            continue
        value = entry.get(f.name)
        if f.kind == "pin" or value is None:
            values[f.name] = "" if f.kind != "bool" else ("1" if f.default else "")
        elif f.kind == "bool":
            values[f.name] = "1" if value else ""
        elif isinstance(value, list):
            values[f.name] = ", ".join(str(v) for v in value)
        else:
            values[f.name] = str(value)
    return values


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[,\s]+", text.strip()) if w]


def _set(entry: Any, key: str, value: Any) -> None:
    if value is None:
        if key in entry:
            del entry[key]
    else:
        entry[key] = value


def apply_form(doc: Any, table: str, index: int | None, form: dict[str, str], user: StaffUser,
               config: SiteConfig) -> int:
    """Write the form into entry `index` of `table` (None: a new entry at the end); returns its index.

    Raises EditRefused when the user may not make the change (another agency, a service it does not own)."""
    items = doc.get(table)
    if items is None:
        items = tomlkit.aot()
        doc.append(table, items)
    if index is None:  # a file may write its entries as [[table]] blocks or as one array of inline tables
        entry: Any = tomlkit.table() if isinstance(items, AoT) else tomlkit.inline_table()
    else:
        entry = items[index]
    own = user.agency if user.role == Role.KOORDINATOR else ""
    for f in FIELDS[table]:
        raw = (form.get(f.name) or "").strip()
        if f.name in ("id", "code") and index is not None:
            continue  # an entry's id is kept: tickets, logs and devices name it
        if f.kind in ("text", "area", "kind"):
            _set(entry, f.name, raw or None)
        elif f.kind == "agency":
            _set(entry, f.name, own or raw or None)
        elif f.kind == "int":
            _set(entry, f.name, int(raw) if raw.isdigit() else (raw or None))  # not a number: the checker says so
        elif f.kind == "bool":
            checked = bool(raw)
            _set(entry, f.name, None if checked == f.default else checked)
        elif f.kind in ("days", "list"):
            words = _words(raw)
            _set(entry, f.name, words or None)
        elif f.kind == "day":
            try:
                _set(entry, f.name, date.fromisoformat(raw) if raw else None)
            except ValueError:
                _set(entry, f.name, raw)
        elif f.kind == "per_day":
            for key in [k for k in entry if is_day_key(str(k))]:
                del entry[key]
            for part in raw.split(";"):
                name, eq, hours = part.partition("=")
                if not part.strip():
                    continue
                if not eq or not is_day_key(name.strip()):
                    raise EditRefused("bad_per_day", "per_day", part=part.strip()[:40])
                entry[name.strip().lower()] = hours.strip()
        elif f.kind == "pin":
            if raw:
                if not PIN_PATTERN.match(raw):
                    raise EditRefused("bad_pin", "pin")
                entry["pin_hash"] = hash_pin(raw)
            elif "pin_hash" not in entry:
                raise EditRefused("pin_needed", "pin")
    if own:  # a koordinator ties its entries only to its own agency's services and counters
        for name, theirs in (("services", config.services), ("counters", config.counters)):
            if table in ("counters", "officers") and name in entry:
                foreign = [str(v) for v in entry[name] if str(v) in theirs and theirs[str(v)].agency != own]
                if foreign:
                    raise EditRefused("foreign_items", name, items=", ".join(foreign))
    if index is None:
        items.append(entry)
        return len(items) - 1
    return index


def remove(doc: Any, table: str, index: int) -> None:
    del doc[table][index]


def check(text: str, source: str) -> tuple[SiteConfig | None, list[Problem]]:
    """The same check as `antrian config check`."""
    try:
        return parse_config(text, source), []
    except ConfigError as exc:
        return None, list(exc.problems)


_LOCATION = re.compile(r"^(?P<table>[a-z_]+)\[(?P<n>\d+)\](?: \([^)]*\))?(?:\.(?P<field>[A-Za-z_]+))?$")


def sort_problems(problems: list[Problem], table: str, index: int | None,
                  lang: str = "id") -> tuple[dict[str, list[str]], list[str]]:
    """The problems of the edited entry by its form field, and all the others (said at the top), in `lang`."""
    fields = {f.name for f in FIELDS[table]}
    by_field: dict[str, list[str]] = {}
    general: list[str] = []
    for p in problems:
        m = _LOCATION.match(p.location)
        if m and index is not None and m["table"] == table and int(m["n"]) == index + 1:
            name = m["field"] or ""
            if name == "pin_hash":
                name = "pin"
            elif name and is_day_key(name):
                name = "per_day"
            if name in fields:
                by_field.setdefault(name, []).append(p.text(lang))
                continue
            general.append(p.text(lang) if not name else f"{name}: {p.text(lang)}")
            continue
        general.append(p.describe(lang))
    return by_field, general


def parse_doc(text: str) -> Any:
    return tomlkit.parse(text)


def dump(doc: Any) -> str:
    return tomlkit.dumps(doc)


__all__ = ["FIELDS", "KEYS", "TABLES", "EditRefused", "Table", "apply_form", "check", "dump", "entries", "find",
           "form_values", "may_edit", "parse_doc", "remove", "sort_problems"]
