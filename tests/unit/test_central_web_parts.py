"""The province control room's pure parts: an account's scope, sorting a table, its CSV."""

from __future__ import annotations

import csv
import io

from broker.access.staff import Role, StaffUser
from broker.web.central.app import Cell, Column, Grid, in_scope, scope_of, sort_grid


def test_a_scope_is_a_region_code_prefix_on_dot_boundaries():
    assert in_scope("", "62.01") and in_scope("", "33.17")
    assert in_scope("62", "62.01") and in_scope("62", "62.01.05") and not in_scope("62", "33.17")
    assert in_scope("62.01", "62.01") and not in_scope("62.01", "62.02") and not in_scope("62.01", "62")
    assert not in_scope("62.0", "62.01") and not in_scope("6", "62.01")  # never half a code
    assert not in_scope("dukcapil", "62.01")  # a site control room's agency seen here: nothing


def test_only_a_koordinator_has_a_scope():
    assert scope_of(StaffUser("a", Role.ADMIN)) == "" == scope_of(StaffUser("p", Role.PIMPINAN))
    assert scope_of(StaffUser("k", Role.KOORDINATOR, "62")) == "62"


def grid() -> Grid:
    return Grid([Column("mpp", "MPP", False), Column("ikm", "IKM", True)],
                [[Cell("Lamandau", "Lamandau"), Cell("80.24", "80,24", numeric=True)],
                 [Cell("barat", "barat"), Cell(None, "-", numeric=True)],
                 [Cell("Kotim", "Kotim"), Cell("79.5", "79,50", numeric=True)]])


def test_sorting_puts_empty_cells_last_either_way_and_compares_numbers_as_numbers():
    names = lambda g: [r[0].value for r in g.rows]
    assert names(sort_grid(grid(), "ikm", True)) == ["Lamandau", "Kotim", "barat"]
    assert names(sort_grid(grid(), "ikm", False)) == ["Kotim", "Lamandau", "barat"]
    assert names(sort_grid(grid(), "mpp", False)) == ["barat", "Kotim", "Lamandau"]  # case does not matter
    assert names(sort_grid(grid(), "nonsense", False)) == names(grid())  # an unknown column leaves the order


def test_the_csv_holds_machine_values_and_no_formula():
    g = Grid([Column("mpp", "MPP", False)], [[Cell("=HYPERLINK(\"x\")", "x")], [Cell("-1", "-1")], [Cell(None, "-")]])
    rows = list(csv.reader(io.StringIO(g.csv())))
    assert rows == [["MPP"], ["'=HYPERLINK(\"x\")"], ["'-1"], [""]]
    assert list(csv.reader(io.StringIO(grid().csv())))[1] == ["Lamandau", "80.24"]
