"""The words of a call: Indonesian numbers 0..9999, ticket numbers, counter ids, phrases, English."""

from __future__ import annotations

import pytest

from display.voice.spoken import (
    Language,
    NumberMode,
    SpeechStyle,
    announcement,
    call_phrase,
    counter_words,
    digits_id,
    number_en,
    number_id,
    ticket_words,
)

EXPECTED = {
    0: "nol", 1: "satu", 2: "dua", 3: "tiga", 4: "empat", 5: "lima", 6: "enam", 7: "tujuh", 8: "delapan",
    9: "sembilan", 10: "sepuluh", 11: "sebelas", 12: "dua belas", 15: "lima belas", 19: "sembilan belas",
    20: "dua puluh", 21: "dua puluh satu", 30: "tiga puluh", 99: "sembilan puluh sembilan", 100: "seratus",
    101: "seratus satu", 110: "seratus sepuluh", 111: "seratus sebelas", 119: "seratus sembilan belas",
    123: "seratus dua puluh tiga", 200: "dua ratus", 205: "dua ratus lima", 999: "sembilan ratus sembilan puluh sembilan",
    1000: "seribu", 1001: "seribu satu", 1010: "seribu sepuluh", 1011: "seribu sebelas", 1100: "seribu seratus",
    1999: "seribu sembilan ratus sembilan puluh sembilan", 2000: "dua ribu", 2019: "dua ribu sembilan belas",
    4010: "empat ribu sepuluh", 9999: "sembilan ribu sembilan ratus sembilan puluh sembilan",
}


@pytest.mark.parametrize("n, words", EXPECTED.items())
def test_indonesian_numbers(n, words):
    assert number_id(n) == words


ONES = ["nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan"]


def reference_reading(n: int) -> str:
    """The rules of domain.md written a second, independent way: by place value, then the special forms."""
    if n == 0:
        return "nol"
    thousands, hundreds, tens, ones = n // 1000, n // 100 % 10, n // 10 % 10, n % 10
    words = []
    if thousands:
        words.append("seribu" if thousands == 1 else f"{ONES[thousands]} ribu")
    if hundreds:
        words.append("seratus" if hundreds == 1 else f"{ONES[hundreds]} ratus")
    if tens == 1:
        words.append({0: "sepuluh", 1: "sebelas"}.get(ones, f"{ONES[ones]} belas"))
    else:
        if tens:
            words.append(f"{ONES[tens]} puluh")
        if ones:
            words.append(ONES[ones])
    return " ".join(words)


def test_every_number_from_0_to_9999_follows_the_rules():
    wrong = [(n, number_id(n), reference_reading(n)) for n in range(10000) if number_id(n) != reference_reading(n)]
    assert not wrong, wrong[:10]


def test_readings_never_contain_forbidden_forms():
    for n in range(1, 10000):
        words = number_id(n).split()
        assert "nol" not in words, n  # zero parts are silent: 100 is "seratus", never "seratus nol"
        assert "satu ratus" not in number_id(n) and "satu ribu" not in number_id(n) and "satu puluh" not in number_id(n)
        assert "satu belas" not in number_id(n), n


def test_larger_and_negative_numbers_do_not_crash():
    assert number_id(12_000) == "dua belas ribu"
    assert number_id(100_000) == "seratus ribu"
    assert number_id(1_000_000) == "satu nol nol nol nol nol nol"
    assert number_id(-5) == "minus lima"


def test_english_numbers():
    assert [number_en(n) for n in (0, 7, 13, 20, 42, 100, 123, 1000, 4010, 9999)] == [
        "zero", "seven", "thirteen", "twenty", "forty-two", "one hundred", "one hundred twenty-three",
        "one thousand", "four thousand ten", "nine thousand nine hundred ninety-nine"]


def test_ticket_numbers_digit_by_digit_and_as_words():
    assert ticket_words("A001") == "A nol nol satu"
    assert ticket_words("A007") == "A nol nol tujuh"
    assert ticket_words("B123", NumberMode.WORDS) == "B seratus dua puluh tiga"
    assert ticket_words("A007", NumberMode.WORDS) == "A tujuh"
    assert ticket_words("A000", NumberMode.WORDS) == "A nol"
    assert ticket_words("KK012", NumberMode.WORDS) == "K K dua belas"
    assert ticket_words("a001") == "A nol nol satu"
    assert ticket_words("A001", lang=Language.ENGLISH) == "A zero zero one"
    assert digits_id("1-2x3") == "satu dua tiga"


def test_counter_ids_are_read_as_people_read_the_sign():
    assert counter_words("3") == "tiga"
    assert counter_words("4K-10") == "empat ka sepuluh"
    assert counter_words("12") == "dua belas"
    assert counter_words("07") == "nol tujuh"
    assert counter_words("B2") == "be dua"
    assert counter_words("4K-10", Language.ENGLISH) == "four K ten"


def test_the_call_phrase():
    assert call_phrase("A001", "3") == "Nomor antrian A nol nol satu, silakan menuju loket tiga"
    assert call_phrase("B123", "4K-10", style=SpeechStyle(mode=NumberMode.WORDS)) == \
        "Nomor antrian B seratus dua puluh tiga, silakan menuju loket empat ka sepuluh"
    with_agency = SpeechStyle(with_agency=True, queue_word="antrean")
    assert call_phrase("A001", "4", "Dinas Tenaga Kerja", with_agency) == \
        "Nomor antrean A nol nol satu, silakan menuju loket empat, Dinas Tenaga Kerja"
    assert call_phrase("A001", "4", "Dinas Tenaga Kerja") == "Nomor antrian A nol nol satu, silakan menuju loket empat"


def test_english_follows_indonesian_when_enabled():
    assert announcement("A001", "3") == [(Language.INDONESIAN, "Nomor antrian A nol nol satu, silakan menuju loket tiga")]
    said = announcement("A001", "4K-10", style=SpeechStyle(english=True))
    assert [lang for lang, _ in said] == [Language.INDONESIAN, Language.ENGLISH]
    assert said[1][1] == "Number A zero zero one, please go to counter four K ten"


@pytest.mark.parametrize("number, counter", [("", ""), ("???", "!"), ("A" * 200, "9" * 50), ("None", None)])
def test_odd_input_never_crashes(number, counter):
    assert call_phrase(number, counter).startswith("Nomor antrian")
