"""`antrian config check` accepts a demo's config but says what a public hall must not run with."""

from __future__ import annotations

import tomllib

from broker.core.pin import hash_pin
from broker.site.config import SAMPLE_CONFIG, config_warnings, load_config, parse_config
from conftest import SMALL_SITE


def keys(config) -> list[str]:
    return [w.key for w in config_warnings(config)]


def test_the_shipped_sample_is_warned_about_twice():
    warnings = config_warnings(load_config(SAMPLE_CONFIG))
    assert [w.key for w in warnings] == ["[access] allow_anonymous = true", "[[officers]] pin_hash"]
    officers = [o["id"] for o in tomllib.loads(SAMPLE_CONFIG.read_text(encoding="utf-8"))["officers"]]
    assert officers and all(name in warnings[1].id and name in warnings[1].en for name in officers)
    for w in warnings:  # Indonesian and English, one language each
        assert "siapa pun" in w.id or "petugas" in w.id
        assert "anyone" in w.en or "officer" in w.en


def test_a_closed_site_with_its_own_pins_has_no_warning():
    sample_officer = tomllib.loads(SAMPLE_CONFIG.read_text(encoding="utf-8"))["officers"][0]["pin_hash"]
    closed = SMALL_SITE.replace("allow_anonymous = true", "allow_anonymous = false")
    own = closed + f'\n[[officers]]\nid = "rina"\nname = "Rina"\npin_hash = "{hash_pin("8642", iterations=1000)}"\n'
    assert keys(parse_config(own)) == []
    copied = closed + f'\n[[officers]]\nid = "rina"\nname = "Rina"\npin_hash = "{sample_officer}"\n'
    assert keys(parse_config(copied)) == ["[[officers]] pin_hash"]
    assert keys(parse_config(SMALL_SITE)) == ["[access] allow_anonymous = true"]
