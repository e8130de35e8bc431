"""The words of the contract and of every screen, for devices: one table, one lookup.

The table itself lives in the pure core (broker/core/texts.py) because the engine's
refusals use it too; kiosks, counters, screens and pages read it through here, as
they read every other part of the contract through broker.protocol.
"""

from broker.core.messages import Message, message
from broker.core.texts import LANGUAGES, TEXTS, has, tr
from broker.protocol.booking_texts import TEXTS as _BOOKING_TEXTS
from broker.protocol.central_texts import TEXTS as _CENTRAL_TEXTS

for _key, _pair in (_BOOKING_TEXTS | _CENTRAL_TEXTS).items():
    TEXTS.setdefault(_key, _pair)  # words of issues 18 and 19 not yet in the core's table (booking_texts.py, central_texts.py)

__all__ = ["LANGUAGES", "TEXTS", "Message", "has", "message", "tr"]
