"""The satisfaction index (IKM) of PermenPANRB 14/2017, in exact arithmetic.

Pure functions only: the tablet, the phone page, `antrian ikm` (paper surveys) and
the reports all compute the index here, so they can never disagree. Fractions keep
the weight exactly 1/9 (the regulation's 0.111 would shift results near a grade
bound); the index is rounded half up to two decimals once, and only then graded.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction


@dataclass(frozen=True)
class Element:
    """One element (unsur) of the survey with its four answers, worst (1) to best (4)."""

    code: str
    name: str
    labels: tuple[str, str, str, str]
    name_en: str = ""
    labels_en: tuple[str, str, str, str] | None = None  # the four answers in English, for the English pages


ELEMENTS: tuple[Element, ...] = (
    Element("U1", "Persyaratan", ("Tidak sesuai", "Kurang sesuai", "Sesuai", "Sangat sesuai"), "Requirements",
            ("Not suitable", "Somewhat suitable", "Suitable", "Very suitable")),
    Element("U2", "Sistem, mekanisme dan prosedur", ("Tidak mudah", "Kurang mudah", "Mudah", "Sangat mudah"),
            "Procedure", ("Not easy", "Somewhat easy", "Easy", "Very easy")),
    Element("U3", "Waktu penyelesaian", ("Tidak cepat", "Kurang cepat", "Cepat", "Sangat cepat"), "Time taken",
            ("Not quick", "Somewhat quick", "Quick", "Very quick")),
    Element("U4", "Biaya/tarif", ("Sangat mahal", "Cukup mahal", "Murah", "Gratis"), "Cost",
            ("Very expensive", "Rather expensive", "Cheap", "Free")),
    Element("U5", "Produk spesifikasi jenis pelayanan", ("Tidak sesuai", "Kurang sesuai", "Sesuai", "Sangat sesuai"),
            "Product as specified", ("Not as promised", "Partly as promised", "As promised", "Fully as promised")),
    Element("U6", "Kompetensi pelaksana", ("Tidak kompeten", "Kurang kompeten", "Kompeten", "Sangat kompeten"),
            "Staff competence", ("Not competent", "Somewhat competent", "Competent", "Very competent")),
    Element("U7", "Perilaku pelaksana", ("Tidak sopan dan ramah", "Kurang sopan dan ramah", "Sopan dan ramah",
                                         "Sangat sopan dan ramah"), "Staff behaviour",
            ("Not polite or friendly", "Somewhat polite", "Polite and friendly", "Very polite and friendly")),
    Element("U8", "Penanganan pengaduan, saran dan masukan", ("Tidak ada", "Ada tetapi tidak berfungsi",
                                                              "Berfungsi kurang maksimal", "Dikelola dengan baik"),
            "Complaint handling", ("Not available", "Available, not working", "Works, could be better",
                                   "Handled well")),
    Element("U9", "Sarana dan prasarana", ("Buruk", "Cukup", "Baik", "Sangat baik"), "Facilities",
            ("Poor", "Fair", "Good", "Very good")),
)
ELEMENT_CODES = tuple(e.code for e in ELEMENTS)
CONVERSION = 25  # the index is the weighted average score (1-4) times 25: 25-100

# (lower bound of the rounded index, grade, performance) from best to worst
GRADES: tuple[tuple[Decimal, str, str, str], ...] = (
    (Decimal("88.31"), "A", "Sangat Baik", "Very good"),
    (Decimal("76.61"), "B", "Baik", "Good"),
    (Decimal("65.00"), "C", "Kurang Baik", "Poor"),
    (Decimal("25.00"), "D", "Tidak Baik", "Very poor"),
)


class BadAnswers(ValueError):
    """A respondent's answers are not nine scores of 1 to 4."""


def check_answers(answers: Sequence[object], count: int = len(ELEMENTS)) -> tuple[int, ...]:
    """The answers as integers 1-4, one per element; raises BadAnswers with a plain reason."""
    if isinstance(answers, (str, bytes)) or not isinstance(answers, Sequence):
        raise BadAnswers(f"answers must be a list of {count} scores from 1 to 4")
    if len(answers) != count:
        raise BadAnswers(f"answers has {len(answers)} scores, the survey has {count} elements")
    scores = []
    for i, value in enumerate(answers):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 4:
            raise BadAnswers(f"answer {i + 1} is {value!r}, not a score from 1 to 4")
        scores.append(value)
    return tuple(scores)


def round2(value: Fraction) -> Decimal:
    """Half up to two decimals, exactly, as people round (Python's round() goes to the even digit)."""
    return Decimal(math.floor(value * 100 + Fraction(1, 2))).scaleb(-2)


def grade(index: Decimal | float | str) -> tuple[str, str, str]:
    """(grade, performance in Bahasa Indonesia, in English) of an index already rounded to two decimals."""
    value = Decimal(str(index))
    for bound, letter, text_id, text_en in GRADES:
        if value >= bound:
            return letter, text_id, text_en
    return GRADES[-1][1:]


@dataclass(frozen=True)
class IkmResult:
    respondents: int
    sums: tuple[int, ...]  # total score per element
    nrr: tuple[Fraction, ...]  # average score per element (nilai rata-rata)
    exact: Fraction  # the index before rounding
    ikm: Decimal | None  # rounded to two decimals; None without respondents
    grade: str
    performance: str
    performance_en: str

    def as_dict(self, codes: Sequence[str] = ELEMENT_CODES) -> dict[str, object]:
        return {"respondents": self.respondents,
                "ikm": float(self.ikm) if self.ikm is not None else None,
                "grade": self.grade, "performance": self.performance, "performance_en": self.performance_en,
                "elements": [{"code": code, "sum": s, "nrr": round(float(n), 3),
                              "weighted_nrr": round(float(n / len(codes)), 3),
                              "ikm": float(round2(n * CONVERSION))}
                             for code, s, n in zip(codes, self.sums, self.nrr)]}


def compute(respondents: Iterable[Sequence[int]], elements: int = len(ELEMENTS)) -> IkmResult:
    """IKM = sum over elements of (NRR x 1/elements) x 25, NRR = total score / respondents."""
    sums = [0] * elements
    n = 0
    for answers in respondents:
        for i, score in enumerate(check_answers(answers, elements)):
            sums[i] += score
        n += 1
    return from_sums(n, sums)


def from_sums(respondents: int, sums: Sequence[int]) -> IkmResult:
    """The same index from totals per element (what an SQL aggregation gives)."""
    if respondents <= 0:
        return IkmResult(0, tuple(sums), tuple(Fraction(0) for _ in sums), Fraction(0), None, "", "", "")
    nrr = tuple(Fraction(s, respondents) for s in sums)
    exact = sum((x * Fraction(1, len(sums)) for x in nrr), Fraction(0)) * CONVERSION
    index = round2(exact)
    letter, text_id, text_en = grade(index)
    return IkmResult(respondents, tuple(sums), nrr, exact, index, letter, text_id, text_en)


# Krejcie & Morgan (1970), table 1: population -> minimum sample (95 % confidence, 5 % margin)
KREJCIE_MORGAN: tuple[tuple[int, int], ...] = (
    (10, 10), (15, 14), (20, 19), (25, 24), (30, 28), (35, 32), (40, 36), (45, 40), (50, 44), (55, 48),
    (60, 52), (65, 56), (70, 59), (75, 63), (80, 66), (85, 70), (90, 73), (95, 76), (100, 80), (110, 86),
    (120, 92), (130, 97), (140, 103), (150, 108), (160, 113), (170, 118), (180, 123), (190, 127), (200, 132),
    (210, 136), (220, 140), (230, 144), (240, 148), (250, 152), (260, 155), (270, 159), (280, 162), (290, 165),
    (300, 169), (320, 175), (340, 181), (360, 186), (380, 191), (400, 196), (420, 201), (440, 205), (460, 210),
    (480, 214), (500, 217), (550, 226), (600, 234), (650, 242), (700, 248), (750, 254), (800, 260), (850, 265),
    (900, 269), (950, 274), (1000, 278), (1100, 285), (1200, 291), (1300, 297), (1400, 302), (1500, 306),
    (1600, 310), (1700, 313), (1800, 317), (1900, 320), (2000, 322), (2200, 327), (2400, 331), (2600, 335),
    (2800, 338), (3000, 341), (3500, 346), (4000, 351), (4500, 354), (5000, 357), (6000, 361), (7000, 364),
    (8000, 367), (9000, 368), (10000, 370), (15000, 375), (20000, 377), (30000, 379), (40000, 380),
    (50000, 381), (75000, 382), (100000, 384),
)
_KM = dict(KREJCIE_MORGAN)


def krejcie_morgan(population: int) -> int:
    """Minimum respondents for `population` visitors: the published table where it has a row, else
    s = X²NP(1-P) / (d²(N-1) + X²P(1-P)) with X² = 3.841, P = 0.5, d = 0.05, rounded, never below
    the table's value for a smaller population (the table tops out at 384)."""
    if population <= 0:
        return 0
    if population in _KM:
        return _KM[population]
    if population > KREJCIE_MORGAN[-1][0]:
        return KREJCIE_MORGAN[-1][1]
    chi2, p, d = Fraction(3841, 1000), Fraction(1, 2), Fraction(5, 100)
    s = chi2 * population * p * (1 - p) / (d * d * (population - 1) + chi2 * p * (1 - p))
    formula = math.floor(s + Fraction(1, 2))
    below = max((v for n, v in KREJCIE_MORGAN if n < population), default=0)
    return min(population, max(formula, below))


def sample_check(respondents: int, population: int) -> dict[str, object]:
    """Respondents against the Krejcie-Morgan minimum of the period, with a sentence for people."""
    needed = krejcie_morgan(population)
    enough = respondents >= needed
    return {"respondents": respondents, "population": population, "minimum_sample": needed,
            "sample_sufficient": enough,
            "sample_note": "" if enough else
            f"Sampel kurang: {respondents} responden, minimal {needed} untuk {population} pengunjung "
            f"(Krejcie-Morgan)"}
