"""The control room's form edits of the site config (broker.web.kendali.editing): one entry changed and every
comment kept, the checker's problems sorted to their fields, and what a koordinator may not do."""

from __future__ import annotations

import pytest

from broker.access.staff import Role, StaffUser
from broker.site.config import parse_config
from broker.site.versions import diff
from broker.web.kendali import editing
from conftest import SMALL_SITE

ADMIN = StaffUser("admin", Role.ADMIN)
SITI = StaffUser("siti", Role.KOORDINATOR, "dukcapil")


def test_a_quota_edit_changes_one_line_and_keeps_the_comments():
    text = SMALL_SITE
    doc = editing.parse_doc(text)
    index = editing.find(doc, "services", "A")
    values = editing.form_values("services", editing.entries(doc, "services")[index])
    values["quota"] = "40"
    editing.apply_form(doc, "services", index, values, ADMIN, parse_config(text))
    new = editing.dump(doc)
    changed = [line for line in diff(text, new) if line.startswith(("+", "-"))][2:]
    assert changed == ["+quota = 40"]
    assert "# tests issue faster than any visitor" in new
    assert parse_config(new).services["A"].quota == 40


def test_checker_problems_go_beside_their_field():
    doc = editing.parse_doc(SMALL_SITE)
    index = editing.find(doc, "services", "P")
    values = editing.form_values("services", editing.entries(doc, "services")[index])
    values |= {"quota": "banyak", "hours": "25:00-26:00"}
    editing.apply_form(doc, "services", index, values, ADMIN, parse_config(SMALL_SITE))
    config, problems = editing.check(editing.dump(doc), "x.toml")
    assert config is None
    by_field, general = editing.sort_problems(problems, "services", index)
    assert set(by_field) == {"quota", "hours"} and general == []


def test_a_koordinator_cannot_move_an_entry_or_take_another_agencys_service():
    config = parse_config(SMALL_SITE)
    doc = editing.parse_doc(SMALL_SITE)
    index = editing.find(doc, "counters", "1")
    entry = editing.entries(doc, "counters")[index]
    assert editing.may_edit(SITI, "counters", entry["agency"]) and not editing.may_edit(SITI, "counters", "imigrasi")
    assert not editing.may_edit(SITI, "agencies", "dukcapil") and not editing.may_edit(SITI, "closures", "")
    assert not editing.may_edit(StaffUser("kepala", Role.PIMPINAN), "services", "dukcapil")
    values = editing.form_values("counters", entry) | {"agency": "imigrasi"}
    editing.apply_form(doc, "counters", index, values, SITI, config)
    assert editing.entries(doc, "counters")[index]["agency"] == "dukcapil"  # the form's agency is not taken
    with pytest.raises(editing.EditRefused) as refused:
        editing.apply_form(doc, "counters", index, values | {"services": "A, P"}, SITI, config)
    assert refused.value.key == "foreign_items" and refused.value.params == {"items": "P"}


def test_a_new_officer_gets_a_pin_hash_never_the_pin():
    config = parse_config(SMALL_SITE)
    doc = editing.parse_doc(SMALL_SITE)
    form = {"id": "rina", "name": "Rina", "agency": "", "counters": "", "pin": ""}
    with pytest.raises(editing.EditRefused):
        editing.apply_form(doc, "officers", None, form, SITI, config)
    with pytest.raises(editing.EditRefused):
        editing.apply_form(doc, "officers", None, form | {"pin": "12a4"}, SITI, config)
    editing.apply_form(doc, "officers", None, form | {"pin": "246810"}, SITI, config)
    text = editing.dump(doc)
    assert "246810" not in text
    officer = parse_config(text).officers["rina"]
    assert officer.agency == "dukcapil"
    from broker.core.pin import verify_pin
    assert verify_pin("246810", officer.pin_hash)


def test_entries_written_as_an_inline_array_are_edited_and_added_too():
    text = SMALL_SITE[:SMALL_SITE.index("[[counters]]")]  # the counters are the file's last entries
    text = ('counters = [{id = "1", agency = "dukcapil", services = ["A", "B"]}, '
            '{id = "4K-10", agency = "imigrasi", services = ["P"]}, {id = "5", agency = "bank", services = ["K"]}]\n'
            + text)
    config = parse_config(text)
    doc = editing.parse_doc(text)
    index = editing.find(doc, "counters", "1")
    values = editing.form_values("counters", editing.entries(doc, "counters")[index]) | {"name": "Loket Satu"}
    editing.apply_form(doc, "counters", index, values, ADMIN, config)
    editing.apply_form(doc, "counters", None, {"id": "9", "agency": "dukcapil", "services": "B"}, ADMIN, config)
    changed = parse_config(editing.dump(doc))
    assert changed.counters["1"].name == "Loket Satu" and changed.counters["9"].services == ("B",)
