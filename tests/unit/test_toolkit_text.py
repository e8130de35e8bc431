"""The toolkit's text never leaves its box: fitted, wrapped, or at the very least clipped; the ticker's strip."""

from __future__ import annotations

import pygame
import pytest

from display.toolkit import ui

ui.init_pygame(headless=True)

WORDS = ["Dindukcapil", "BPJS Ketenagakerjaan", "Polres Rembang", "Pendaftaran JKN Ditanggung Pemerintah Daerah",
         "Perusahaan Umum Daerah Air Minum Kabupaten Rembang", "W" * 80, "", "A"]


def background_outside(surface, rect) -> bool:
    """True when every pixel outside `rect` is still the background."""
    copy = surface.copy()
    copy.fill(ui.BACKGROUND, rect)
    return pygame.mask.from_threshold(copy, ui.BACKGROUND, (1, 1, 1, 255)).count() == copy.get_width() * copy.get_height()


@pytest.mark.parametrize("text", WORDS)
@pytest.mark.parametrize("width", [8, 30, 72, 200])
def test_fit_font_never_returns_a_font_wider_than_asked_above_the_smallest(text, width):
    f = ui.fit_font(text, width, 40)
    assert f.size(text)[0] <= width or f.get_height() == ui.font(ui.SMALLEST).get_height()


@pytest.mark.parametrize("text", WORDS)
@pytest.mark.parametrize("align", ["left", "center", "right"])
def test_draw_text_draws_nothing_left_or_right_of_its_box(text, align):
    surface = ui.new_surface((400, 60))
    box = pygame.Rect(150, 10, 60, 40)
    with ui.recording() as drawn:
        ui.draw_text(surface, text, box, 30, ui.TEXT, align=align)
    assert background_outside(surface, pygame.Rect(box.left, 0, box.width, 60))
    assert [d.text for d in drawn] == [text] and box.left <= drawn[0].rect.left <= drawn[0].rect.right <= box.right


def test_a_text_that_fits_is_drawn_at_the_size_asked():
    with ui.recording() as drawn:
        ui.draw_text(ui.new_surface((400, 60)), "BRI", (0, 0, 400, 60), 30)
    assert drawn[0].rect.size == ui.font(30).size("BRI")


@pytest.mark.parametrize("text", WORDS)
@pytest.mark.parametrize("box", [(84, 20), (84, 40), (120, 30), (300, 58), (20, 20)])
def test_fit_lines_fits_width_height_and_line_count(text, box):
    width, height = box
    lines, size = ui.fit_lines(text, width, height, 40, max_lines=2)
    assert 1 <= len(lines) <= 2
    f = ui.font(size)
    if size > ui.SMALLEST:
        assert all(f.size(line)[0] <= width for line in lines)
        assert (len(lines) - 1) * int(size * 1.1) + f.get_height() <= height
    if len(text.split()) <= 2 and size > ui.SMALLEST:
        assert " ".join(lines) == " ".join(text.split()), "nothing dropped"


def test_two_lines_are_preferred_to_one_tiny_line():
    lines, size = ui.fit_lines("BPJS Ketenagakerjaan", 120, 60, 28, max_lines=2)
    one_line = ui.fit_font("BPJS Ketenagakerjaan", 120, 28)
    assert lines == ["BPJS", "Ketenagakerjaan"] and size > one_line.get_height() / 1.2


@pytest.mark.parametrize("text", WORDS)
def test_draw_lines_stays_inside_its_box(text):
    surface = ui.new_surface((300, 120))
    box = pygame.Rect(100, 30, 84, 50)
    with ui.recording() as drawn:
        ui.draw_lines(surface, text, box, 24, ui.TEXT, max_lines=2)
    assert background_outside(surface, box)
    assert all(box.contains(d.rect) for d in drawn)


def test_the_ticker_strip_gives_the_line_at_any_offset_in_one_blit():
    text = "Selamat datang di Mal Pelayanan Publik. " * 3
    loop = ui.ticker_strip(text, (640, 40))
    assert loop is not None and loop.span > 640
    assert ui.ticker_strip("Buka", (640, 40)) is None, "a short line stands still"
    frames = []
    for offset in (0, 5, loop.span, loop.span + 5):
        surface = ui.new_surface((640, 40), ui.PANEL_LIGHT)
        dirty = loop.blit(surface, surface.get_rect(), offset)
        assert surface.get_rect().contains(dirty) and dirty.height < 40, "only the text's rows are drawn"
        frames.append(pygame.image.tobytes(surface, "RGB"))
    assert frames[0] != frames[1], "it moves"
    assert frames[0] == frames[2] and frames[1] == frames[3], "and loops seamlessly"
