"""QR codes as a grid of modules, for the kiosk screen and the ticket preview."""

from __future__ import annotations


def qr_matrix(data: str, border: int = 0, level: str = "M") -> list[list[bool]]:
    """The QR modules of `data` (True = dark); medium error correction (M) by default so a creased ticket
    still scans. The smallest version that holds the data, as a printer's own QR command chooses it."""
    import qrcode

    levels = {"L": qrcode.constants.ERROR_CORRECT_L, "M": qrcode.constants.ERROR_CORRECT_M,
              "Q": qrcode.constants.ERROR_CORRECT_Q, "H": qrcode.constants.ERROR_CORRECT_H}
    code = qrcode.QRCode(border=border, error_correction=levels[level])
    code.add_data(data)
    code.make(fit=True)
    return code.get_matrix()


def qr_surface(data: str, size: int, dark=(0, 0, 0), light=(255, 255, 255)):
    """A square pygame surface at most `size` pixels wide with a quiet zone, modules on whole pixels."""
    import pygame

    matrix = qr_matrix(data, border=2)
    module = max(1, size // len(matrix))
    surface = pygame.Surface((module * len(matrix),) * 2)
    surface.fill(light)
    for r, row in enumerate(matrix):
        for c, on in enumerate(row):
            if on:
                surface.fill(dark, (c * module, r * module, module, module))
    return surface
