"""Antrian's shipped files (sample site config, traffic model, fonts, chime, logos).

Installed as the package `antrian_assets` (pyproject maps it to this folder), so a plain
`pip install` carries them; code finds them through `ROOT` instead of guessing paths.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent
