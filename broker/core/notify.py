"""Messages to a visitor's phone: opt-in per ticket, and which message is due when.

A visitor gives a number for one ticket (`notify-subscribe`, from the kiosk after issuing
or from the ticket page with the ticket's token), agreeing to the consent text of
broker.core.texts ("notify.consent", UU 27/2022 on personal data). That is recorded as a
`notify_subscribed` event. After every command the engine asks `due` which messages the
new state calls for: "tinggal N orang lagi" once `rules.notify_ahead` or fewer are ahead,
"dipanggil ke Loket X" when called, and the survey link after service. Each becomes a
`notification_queued` event with a unique id (ticket and kind); the store writes it into
its outbox in the same transaction, and the shell's sender delivers it (broker/server/outbox.py).
Applying the event marks the kind as queued, so a replay after `kill -9` queues nothing twice.

The number is personal data: it lives in the state only for the day (`Hall.new_day` forgets
every subscription), it is never published (`public_data` strips it from the events on MQTT
and the store keeps it apart, deleting it when the next day starts) and it never shows in a
repr or a reply (`masked`). Pure: stdlib only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from broker.core.commands import NotifySubscribe
from broker.core.events import Event, EventType
from broker.core.lifecycle import TicketState
from broker.core.plan import At, Plan, Planned, Refusal, Reply
from broker.core.survey import survey_token, survey_url, token_matches
from broker.core.texts import tr

if TYPE_CHECKING:  # views import the state, which imports this module's Subscription
    from broker.core.views import HallView

CHANNELS = ("whatsapp", "sms")
CONSENT_VERSION = "uu27-2022-v1"  # which consent text the visitor agreed to (texts "notify.consent")
E164_ID = re.compile(r"^\+62[1-9][0-9]{7,12}$")  # an Indonesian number as the codec normalizes it
KINDS = ("near", "called", "survey")
WITHDRAWN = "withdrawn"  # `consent` of a notify_subscribed event that ends a subscription (its channel empty)

# fields of an event that are personal data: never published, kept by the store apart and only for the day
PRIVATE_FIELDS: dict[str, tuple[str, ...]] = {
    str(EventType.NOTIFY_SUBSCRIBED): ("phone",),
    str(EventType.NOTIFICATION_QUEUED): ("to", "text"),
}


@dataclass
class Subscription:
    """One ticket's phone and the kinds of message already queued for it (from events only)."""

    ticket: str
    channel: str
    phone: str = field(repr=False)
    lang: str = "id"
    queued: set[str] = field(default_factory=set)  # message ids: "<ticket>:near", "<ticket>:called:<counter>"


def masked(phone: str) -> str:
    """What a reply or a screen may show of a number: "+62812****7890"."""
    return phone[:6] + "*" * max(0, len(phone) - 10) + phone[-4:] if len(phone) > 10 else "*" * len(phone)


# fields kept in the log but never published: a booking's keyed hashes of its phone and NIK (broker.core.booking)
UNPUBLISHED_FIELDS: dict[str, tuple[str, ...]] = {str(EventType.BOOKING_MADE): ("persons",)}


def public_data(event: Event) -> dict[str, Any]:
    """The event as it may be published: without its personal fields."""
    private = PRIVATE_FIELDS.get(str(event.type), ()) + UNPUBLISHED_FIELDS.get(str(event.type), ())
    return {k: v for k, v in event.as_dict().items() if k not in private}


def split_private(event: Event) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the data the log keeps, the personal data kept apart for the day)."""
    private = PRIVATE_FIELDS.get(str(event.type), ())
    return ({k: v for k, v in event.data.items() if k not in private},
            {k: v for k, v in event.data.items() if k in private})


# ---------------------------------------------------------------------- the command


def subscribe(view: HallView, cmd: NotifySubscribe, at: At, plan: Plan) -> Reply:
    hall = view.hall
    ticket = hall.tickets.get(cmd.ticket)
    from_kiosk = cmd.source.startswith("kiosk/")
    if ticket is None:
        raise Refusal("notify_unknown_ticket")
    if from_kiosk:  # the kiosk that printed it, right after issuing; anyone else must show the ticket's token
        if cmd.source != f"kiosk/{ticket.kiosk}":
            raise Refusal("notify_unknown_ticket")
    elif not (view.secret and token_matches(view.secret, cmd.ticket, cmd.token)):
        raise Refusal("survey_bad_token")
    if cmd.withdraw:  # consent withdrawn (UU 27/2022): nothing more is sent, the store deletes the number
        if ticket.id in hall.subscriptions:
            plan.emit(EventType.NOTIFY_SUBSCRIBED, ticket=ticket.id, channel="", lang="", consent=WITHDRAWN)
        return lambda: {"notify": {"ticket": ticket.id, "channel": "", "to": ""}}
    if not cmd.consent:
        raise Refusal("notify_no_consent")
    if cmd.channel not in CHANNELS:
        raise Refusal("notify_bad_channel", channel=cmd.channel[:20], choices=", ".join(CHANNELS))
    if not E164_ID.match(cmd.phone):
        raise Refusal("notify_bad_phone")
    if ticket.state in (TicketState.DONE, TicketState.NO_SHOW, TicketState.EXPIRED):
        raise Refusal("ticket_state", number=ticket.number, state=str(ticket.state), action="subscribe")
    plan.emit(EventType.NOTIFY_SUBSCRIBED, ticket=ticket.id, channel=cmd.channel, phone=cmd.phone,
              lang=cmd.lang if cmd.lang in ("id", "en") else "id", consent=CONSENT_VERSION)
    return lambda: {"notify": {"ticket": ticket.id, "channel": cmd.channel, "to": masked(cmd.phone)}}


# ---------------------------------------------------------------------- what is due


def due(view: HallView, at: At) -> list[Planned]:
    """The messages the state now calls for and that were not queued yet, in ticket order."""
    hall = view.hall
    planned: list[Planned] = []
    for sub in hall.subscriptions.values():
        ticket = hall.tickets.get(sub.ticket)
        if ticket is None:
            continue
        site = view.config.site.name
        kind, params = "", dict[str, Any]()
        if ticket.state == TicketState.WAITING:
            ahead = hall.queues[ticket.service].ahead_of(ticket)
            if ahead <= view.config.rules.notify_ahead:
                kind, params = "near", {"ahead": ahead}
        elif ticket.state == TicketState.CALLED and ticket.counter:
            kind, params = f"called:{ticket.counter}", {"counter": ticket.counter}
        elif ticket.state == TicketState.DONE and view.secret:
            url = survey_url(view.config.site.survey_url, ticket.id, survey_token(view.secret, ticket.id))
            if url:
                kind, params = "survey", {"url": url}
        msg_id = f"{ticket.id}:{kind}"
        if not kind or msg_id in sub.queued:
            continue
        key = "notify.near_next" if kind == "near" and params["ahead"] == 0 else f"notify.{kind.split(':')[0]}"
        text = tr(key, sub.lang, site=site, number=ticket.number, **params)
        planned.append((EventType.NOTIFICATION_QUEUED, {"id": msg_id, "ticket": ticket.id, "kind": kind.split(":")[0],
                                                        "channel": sub.channel, "to": sub.phone, "text": text}))
    return planned
