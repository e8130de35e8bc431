"""Issuing tickets: the kiosk's one command, judged against holidays, hours, quota and the kiosk's pace.

A ticket's number is its service's prefix and the next count of the day; its place in
the queue is the seq of its `ticket_issued` event, so a wall clock that steps back can
never put a later visitor ahead of an earlier one.
"""

from __future__ import annotations

import math
from typing import Any

from broker.core.commands import IssueTicket
from broker.core.events import EventType
from broker.core.model import PRIORITY_GROUPS
from broker.core.plan import At, Plan, Refusal, Reply
from broker.core.survey import survey_token
from broker.core.views import HallView

KIOSK_WINDOW_S = 60.0  # rules.kiosk_tickets_per_minute counts tickets within this long


def issue(view: HallView, cmd: IssueTicket, at: At, plan: Plan) -> Reply:
    hall, rules = view.hall, view.config.rules
    service = view.config.services.get(cmd.service)
    if service is None:
        raise Refusal("unknown_service", service=cmd.service)
    if cmd.priority is not None:
        if cmd.priority not in PRIORITY_GROUPS:
            raise Refusal("unknown_priority", group=cmd.priority, choices=", ".join(PRIORITY_GROUPS))
        if not service.priority:
            raise Refusal("priority_not_offered", service=service.name)
    closed = view.closed_message(service.code, at.now)  # a holiday or closure all day, or out of hours
    if closed is not None:
        raise Refusal(closed.code, **closed.params)
    if service.quota is not None and hall.issued[service.code] >= service.quota:
        day = view.calendar.next_open_day(service.code, service.schedule, view.calendar.clock.day(at.now))
        raise Refusal("quota_reached", service=service.name, quota=service.quota,
                      next_day=day.isoformat() if day else None)
    recent = hall.kiosk_issues.get(cmd.kiosk)
    limit = rules.kiosk_tickets_per_minute
    if limit > 0 and recent is not None and len(recent) >= limit and at.mono - recent[-limit] < KIOSK_WINDOW_S:
        raise Refusal("kiosk_rate_limited", seconds=max(1, math.ceil(KIOSK_WINDOW_S - (at.mono - recent[-limit]))))
    n = hall.last_number[service.code] + 1
    number = f"{service.code}{n:0{rules.number_digits}d}"
    ticket_id = f"{hall.day:%Y%m%d}-{number}"
    plan.emit(EventType.TICKET_ISSUED, ticket=ticket_id, number=number, n=n, service=service.code,
              agency=service.agency, priority=cmd.priority, kiosk=cmd.kiosk)

    def reply() -> dict[str, Any]:
        ticket = hall.tickets[ticket_id]
        ahead = hall.queues[service.code].ahead_of(ticket)
        answer: dict[str, Any] = {"ticket": ticket.public(), "ahead": ahead,
                                     "est_wait_s": view.estimate_wait_s(service.code, ahead)}
        if view.secret:  # for the survey link in the ticket's QR code (broker.core.survey.survey_url)
            answer["survey_token"] = survey_token(view.secret, ticket.id)
        return answer

    return reply
