"""The touchscreen ticket kiosk and its ticket printing."""

import os

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
