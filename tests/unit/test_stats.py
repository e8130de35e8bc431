"""The one percentile: nearest rank, as reports and benchmarks both quote it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from broker.core.stats import percentile


def test_nearest_rank_on_a_known_list():
    values = [15, 20, 35, 40, 50]  # the textbook example of the nearest-rank method
    assert [percentile(values, s) for s in (0.05, 0.3, 0.4, 0.5, 1.0)] == [15, 20, 20, 35, 50]
    assert percentile(list(range(1, 101)), 0.9) == 90 and percentile(list(range(1, 101)), 0.99) == 99


@given(st.lists(st.integers(-1000, 1000), min_size=1, max_size=60), st.floats(0.0, 1.0))
def test_the_smallest_value_with_at_least_that_share_at_or_below_it(values, share):
    p = percentile(values, share)
    assert p in values
    n = len(values)
    assert sum(v <= p for v in values) >= share * n - 1e-9
    assert sum(v < p for v in values) < max(share * n, 1)


def test_no_values_is_an_error_not_a_number():
    with pytest.raises(ValueError):
        percentile([], 0.5)
