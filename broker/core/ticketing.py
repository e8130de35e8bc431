"""Issuing tickets: the kiosk's one command, judged against holidays, hours, quota and the kiosk's pace.

A ticket's number is its service's prefix and the next count of the day; its place in
the queue is the seq of its `ticket_issued` event, so a wall clock that steps back can
never put a later visitor ahead of an earlier one.
"""

from __future__ import annotations

import math
from typing import Any

from broker.core.booking import overflow, refuse, walk_in_left
from broker.core.commands import IssueTicket
from broker.core.events import EventType
from broker.core.messages import message
from broker.core.model import PRIORITY_GROUPS, Service
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
        raise refuse(view, cmd, at, closed.code, svc=service, why="closed", next_open=True, **closed.params)
    left = walk_in_left(view, service.code, at.now)  # the quota less the online places still held
    if left is not None and left <= 0:
        day = view.calendar.next_open_day(service.code, service.schedule, view.calendar.clock.day(at.now))
        raise refuse(view, cmd, at, "quota_reached", svc=service, service=service.name, why="quota", next_open=True,
                     quota=service.quota, next_day=day.isoformat() if day else None)
    recent = hall.kiosk_issues.get(cmd.kiosk)
    limit = rules.kiosk_tickets_per_minute
    if limit > 0 and recent is not None and len(recent) >= limit and at.mono - recent[-limit] < KIOSK_WINDOW_S:
        raise Refusal("kiosk_rate_limited", seconds=max(1, math.ceil(KIOSK_WINDOW_S - (at.mono - recent[-limit]))))
    ahead = hall.queues[service.code].count(True if cmd.priority is not None else None)
    over = overflow(view, service.code, at.now, ahead)
    policy = service.overflow or rules.overflow
    if over is not None and policy == "stop":
        raise refuse(view, cmd, at, "service_overflow", svc=service,
                     why="referral" if service.referral else "overflow", next_open=True, **over)
    _, _, build = issue_planned(view, service, plan, kiosk=cmd.kiosk, priority=cmd.priority)
    if over is None or policy != "warn":
        return build
    warning = message("overflow_warning", **over).as_dict()
    referral = {"text": service.referral, "text_en": service.referral_en or service.referral} \
        if service.referral else None
    return lambda: build() | {"overflow": warning, "referral": referral}


def issue_planned(view: HallView, service: Service, plan: Plan, *, kiosk: str, priority: str | None = None,
                  booking: str = "", session: str = "", order: float | None = None) -> tuple[str, str, Reply]:
    """Plan the next ticket of `service`: (its id, its number, the reply builder)."""
    hall, rules = view.hall, view.config.rules
    n = hall.last_number[service.code] + 1
    number = f"{service.code}{n:0{rules.number_digits}d}"
    ticket_id = f"{hall.day:%Y%m%d}-{number}"
    data: dict[str, Any] = {"booking": booking, "session": session, "order": order}
    plan.emit(EventType.TICKET_ISSUED, ticket=ticket_id, number=number, n=n, service=service.code,
              agency=service.agency, priority=priority, kiosk=kiosk, **data)

    def reply() -> dict[str, Any]:
        ticket = hall.tickets[ticket_id]
        ahead = hall.queues[service.code].ahead_of(ticket)
        answer: dict[str, Any] = {"ticket": ticket.public(), "ahead": ahead,
                                     "est_wait_s": view.estimate_wait_s(service.code, ahead)}
        if view.secret:  # for the survey link in the ticket's QR code (broker.core.survey.survey_url)
            answer["survey_token"] = survey_token(view.secret, ticket.id)
        return answer

    return ticket_id, number, reply
