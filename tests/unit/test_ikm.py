"""The satisfaction index: the regulation's formula, its grade bounds, Krejcie-Morgan, paper CSVs."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from broker.core.ikm import ELEMENTS, BadAnswers, compute, from_sums, grade, krejcie_morgan, round2


def test_nine_elements_with_the_regulations_labels():
    assert [e.code for e in ELEMENTS] == [f"U{i}" for i in range(1, 10)]
    assert ELEMENTS[3].labels == ("Sangat mahal", "Cukup mahal", "Murah", "Gratis")
    assert ELEMENTS[7].labels[-1] == "Dikelola dengan baik"


def test_worked_example_by_hand():
    # 4 respondents; element sums 14,13,12,15,13,12,16,11,14 -> NRR = sum/4; IKM = mean(NRR) x 25
    rows = [(4, 3, 3, 4, 3, 3, 4, 3, 4), (4, 4, 3, 4, 4, 3, 4, 3, 4),
            (3, 3, 3, 3, 3, 3, 4, 2, 3), (3, 3, 3, 4, 3, 3, 4, 3, 3)]
    result = compute(rows)
    assert result.sums == (14, 13, 12, 15, 13, 12, 16, 11, 14)
    assert result.nrr[0] == Fraction(14, 4)
    # 120 points / 4 respondents / 9 elements x 25 = 83.333...
    assert result.exact == Fraction(120 * 25, 36)
    assert result.ikm == Decimal("83.33") and result.grade == "B" and result.performance == "Baik"


def test_weight_is_exactly_one_ninth_not_0_111():
    # all answers 4: with 0.111 the index would be 99.9, exactly 1/9 gives 100
    assert compute([(4,) * 9]).ikm == Decimal("100.00")
    assert compute([(1,) * 9]).ikm == Decimal("25.00") and compute([(1,) * 9]).grade == "D"


@pytest.mark.parametrize("index,expected", [
    ("100.00", "A"), ("88.31", "A"), ("88.30", "B"), ("76.61", "B"), ("76.60", "C"),
    ("65.00", "C"), ("64.99", "D"), ("25.00", "D")])
def test_grade_bounds(index, expected):
    assert grade(index)[0] == expected


def test_rounding_happens_before_grading_and_half_up():
    assert round2(Fraction(88305, 1000)) == Decimal("88.31")  # half up, then A
    assert round2(Fraction(766049, 10000)) == Decimal("76.60")
    # sums that give exactly 88.305 before rounding: 88.305 x 9 / 25 = 31.7898 points per respondent
    n = 5000
    total = Fraction(88305, 1000) * 9 / 25 * n
    assert total.denominator == 1
    base, extra = divmod(int(total), 9)
    sums = [base + (1 if i < extra else 0) for i in range(9)]
    result = from_sums(n, sums)
    assert result.exact == Fraction(88305, 1000)
    assert result.ikm == Decimal("88.31") and result.grade == "A"


def test_no_respondents_has_no_index():
    result = from_sums(0, [0] * 9)
    assert result.ikm is None and result.grade == ""


def test_bad_answers_are_refused_with_a_reason():
    with pytest.raises(BadAnswers, match="answer 3"):
        compute([(4, 4, 5, 4, 4, 4, 4, 4, 4)])
    with pytest.raises(BadAnswers, match="8 scores"):
        compute([(4,) * 8])


@pytest.mark.parametrize("population,sample", [
    (100, 80), (200, 132), (500, 217), (1000, 278), (2000, 322), (5000, 357), (10000, 370), (20000, 377),
    (50000, 381), (100000, 384)])
def test_krejcie_morgan_table(population, sample):
    assert krejcie_morgan(population) == sample


def test_krejcie_morgan_between_rows_and_beyond():
    values = [krejcie_morgan(n) for n in range(1, 120000, 37)]
    assert values == sorted(values)  # never fewer respondents for more visitors
    assert krejcie_morgan(7) == 7 and krejcie_morgan(0) == 0
    assert krejcie_morgan(150) == 108 and krejcie_morgan(1_000_000) == 384


