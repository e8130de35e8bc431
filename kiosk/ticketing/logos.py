"""Agency and site logos for the kiosk tiles and the ticket, with clean placeholders where none exist.

A logo named in the config (`logo = "logos/dukcapil.png"`, relative to assets/
or absolute) wins; then assets/logos/<agency id>.png; then a placeholder: a
round badge with a monogram of the agency's short name in a colour of its own.
Placeholders are worked out for all the agencies of the site together
(`placeholder_marks`), so no two share a monogram, and no two share a colour
while the palette lasts: four "Dinas ..." no longer all read "D".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from display.toolkit import ui

LOGOS = ui.ASSETS / "logos"
SITE_LOGO = LOGOS / "site.png"
_DIGRAPHS = ("ng", "ny", "kh", "sy")  # one consonant in Indonesian spelling


def logo_path(name: str, key: str = "") -> Path | None:
    """The logo file to use, or None for a placeholder."""
    candidates = []
    if name:
        given = Path(name).expanduser()
        candidates += [given] if given.is_absolute() else [ui.ASSETS / given, LOGOS / given]
    if key:
        candidates.append(LOGOS / f"{key}.png")
    return next((p for p in candidates if p.is_file()), None)


def site_logo_path(name: str = "") -> str:
    found = logo_path(name) if name else None
    found = found or (SITE_LOGO if SITE_LOGO.is_file() else None)
    return str(found) if found else ""


def _words(label: str) -> list[str]:
    return [w for w in re.split(r"[\s()/&,.-]+", label) if w[:1].isalnum()]


def syllable_starts(word: str) -> str:
    """The first letter of each syllable, by Indonesian spelling: Dindukcapil -> DDCP, Kemenag -> KMN.

    A consonant between two vowels opens the next syllable (ke-me-nag); of several consonants between
    vowels the last one opens it (din-duk, mig-ra), "ng", "ny", "kh" and "sy" counting as one (si-nyal).
    """
    letters = word.lower()
    starts = [0]
    i = 1
    while i < len(letters):
        if letters[i] in "aeiou" or not letters[i].isalpha():
            i += 1
            continue
        j = i
        while j < len(letters) and letters[j].isalpha() and letters[j] not in "aeiou":
            j += 1
        if j < len(letters) and letters[j] in "aeiou":  # consonants followed by a vowel: a new syllable
            starts.append(j - 2 if j - i >= 2 and letters[j - 2:j] in _DIGRAPHS else j - 1)
        i = j
    return "".join(letters[k] for k in starts).upper()


def monogram_candidates(label: str) -> list[str]:
    """Monograms for a badge, the most telling first: initials of the words ("BPJS Kesehatan" -> BK), an
    acronym itself (BPN, PDAM; DPMPTSP -> DPM), or a word's syllables (Dinkes -> DK, Dinsos -> DS);
    then longer or other picks, for when the first ones are taken by another agency of the site."""
    words = _words(label) or ["?"]
    found: list[str] = []
    if len(words) > 1:
        found += ["".join(w[0] for w in words[:3]).upper()]
        found += [words[0][:1].upper() + syllable_starts(w)[:2] for w in words[1:2]]
        found += [(words[0][:2] if words[0].isupper() else words[0][:1]).upper() + words[1][:2].upper()]
    word = words[0]
    if word.isupper() or any(c.isdigit() for c in word):
        found += [word[:4] if len(word) <= 4 else word[:3], word[:2], word[:4]]
    else:
        starts = syllable_starts(word)
        found += [starts[:2], starts[:3], word[:2].upper(), word[:3].upper(), starts[:1] + starts[-1:]]
    found = [m for m in found if m]
    return list(dict.fromkeys(found))


# Colours for white letters (contrast 4.5:1 or more, tests/test_kiosk_flow.py checks), ordered so that
# agencies next to each other on the kiosk (one, two or three apart) never get two of a kind.
PLACEHOLDER_COLOURS = ((0, 92, 175), (183, 28, 28), (0, 121, 91), (106, 27, 154), (168, 82, 0), (0, 105, 130),
                       (173, 20, 87), (46, 110, 50), (40, 53, 147), (133, 77, 14), (0, 96, 100), (142, 36, 170),
                       (191, 54, 12), (69, 90, 100), (2, 119, 189), (120, 90, 0))


@lru_cache(maxsize=16)
def placeholder_marks(agencies: tuple[tuple[str, str], ...]) -> dict[str, tuple[str, tuple[int, int, int]]]:
    """{agency id: (monogram, colour)} for the (id, short name) pairs of one site, in the kiosk's order.

    No two agencies share a monogram; colours go round the palette in order, so
    neighbouring tiles always differ and only a site with more agencies than colours
    repeats one (its monogram still tells it apart).
    """
    marks: dict[str, tuple[str, tuple[int, int, int]]] = {}
    used: set[str] = set()
    for index, (key, label) in enumerate(agencies):
        candidates = monogram_candidates(label)
        text = next((m for m in candidates if m not in used), "")
        n = 2
        while not text:
            text = f"{candidates[0][:2]}{n}" if f"{candidates[0][:2]}{n}" not in used else ""
            n += 1
        used.add(text)
        marks[key] = (text, PLACEHOLDER_COLOURS[index % len(PLACEHOLDER_COLOURS)])
    return marks


def placeholder_logo(key: str, label: str, size: int, mark: tuple[str, tuple[int, int, int]] | None = None):
    """A round badge with a monogram; `mark` (from placeholder_marks) keeps it apart from the site's others."""
    import pygame

    text, colour = mark or placeholder_marks(((key, label),))[key]
    surface = pygame.Surface((size, size), pygame.SRCALPHA)
    pygame.draw.circle(surface, colour, (size // 2, size // 2), size // 2)
    pygame.draw.circle(surface, (255, 255, 255), (size // 2, size // 2), size // 2 - max(2, size // 24),
                       width=max(2, size // 30))
    inner = pygame.Rect(0, 0, int(size * 0.72), int(size * 0.5))
    inner.center = (size // 2, size // 2)
    ui.draw_text(surface, text, inner, int(size * (0.46 if len(text) <= 2 else 0.36)), ui.TEXT, bold=True)
    return surface


@lru_cache(maxsize=128)
def _load(path: str, size: int):
    import pygame

    image = pygame.image.load(path)
    w, h = image.get_size()
    scale = size / max(w, h)
    return pygame.transform.smoothscale(image, (max(1, int(w * scale)), max(1, int(h * scale))))


def logo_surface(key: str, label: str, name: str, size: int,
                 mark: tuple[str, tuple[int, int, int]] | None = None):
    """The agency's logo scaled into a `size` square (a placeholder if the file is missing or broken)."""
    path = logo_path(name, key)
    if path is not None:
        try:
            return _load(str(path), size)
        except Exception:  # a corrupt image must not take the kiosk down: fall back to the badge
            pass
    return placeholder_logo(key, label, size, mark)


def site_marks(agencies: Sequence) -> dict[str, tuple[str, tuple[int, int, int]]]:
    """placeholder_marks for objects with `id` and `short` (the kiosk's AgencyChoice, the config's Agency)."""
    return placeholder_marks(tuple((a.id, a.short) for a in agencies))
