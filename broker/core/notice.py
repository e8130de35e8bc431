"""The notice on the hall screens: put out, replaced or taken down by a supervisor (the control room).

One text (Bahasa Indonesia, with an optional English one) at a time; it outlives the day
until someone takes it down, and it is retained as state/notice for every screen.
"""

from __future__ import annotations

from broker.core.commands import HallNotice
from broker.core.events import EventType
from broker.core.plan import At, Plan, Reply
from broker.core.views import HallView

NOTICE_MAX = 200  # characters of each text: one line on a hall TV


def post_notice(view: HallView, cmd: HallNotice, at: At, plan: Plan) -> Reply:
    """The codec has checked the texts' type and length; here only a change is recorded."""
    text = cmd.text.strip()
    text_en = cmd.text_en.strip() if text else ""  # taking the notice down takes both texts down
    current = view.hall.notice
    if (text, text_en) != (current.get("text", ""), current.get("text_en", "")):
        plan.emit(EventType.NOTICE_POSTED, text=text, text_en=text_en, by=cmd.by)
    return lambda: {"notice": view.notice_public()}
