"""Supervisor actions: the role check here, then an engine command over MQTT; the engine's rules decide the rest.

Each action names its target (a counter, or a service for tickets) in the URL; its agency is
taken from the site config, never from the form, and `StaffUser.may_act_on` is the one rule:
an admin anywhere, a koordinator only in its own agency, a pimpinan never. What the engine
refuses (a busy counter, a ticket in the wrong state, another desk's visitor) comes back as
its own coded refusal, in both languages, as for a counter panel.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from broker.access.staff import Role, StaffUser
from broker.core.messages import message
from broker.core.notice import NOTICE_MAX
from broker.mqtt.client import EngineClient, EngineTimeout, new_request_id
from broker.site.config import SiteConfig

REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")
NUMBER = re.compile(r"[A-Za-z0-9-]{1,32}")
SUPERVISOR_DEVICE = "kendali"


@dataclass(frozen=True)
class Result:
    """What an action gave: ok, or a refusal with its sentences (Indonesian and English) and HTTP status."""

    ok: bool
    status: int = 200
    message: str = ""
    message_en: str = ""
    code: str = ""
    reply: dict[str, Any] = field(default_factory=dict)

    def text(self, lang: str) -> str:
        return self.message_en if lang == "en" else self.message


def _refused(status: int, key: str, **params: Any) -> Result:
    from broker.protocol.texts import tr

    return Result(False, status, tr(f"kendali.{key}", "id", **params), tr(f"kendali.{key}", "en", **params), key)


def _engine_refusal(reply: dict[str, Any]) -> Result:
    found = reply.get("error")
    error: dict[str, Any] = found if isinstance(found, dict) else {}
    return Result(False, 503 if error.get("code") == "engine_unavailable" else 409, str(error.get("message") or ""),
                  str(error.get("message_en") or ""), str(error.get("code") or ""), reply)


def request_id(form_value: str | None) -> str:
    """The form's request id (a resent form is the same command), or a new one."""
    return form_value if form_value and REQUEST_ID.fullmatch(form_value) else new_request_id()


class Supervisor:
    """The actions of one control room: its site config and its way to the engine."""

    def __init__(self, config: SiteConfig, client: EngineClient | None):
        self.config, self.client = config, client

    def _allowed(self, user: StaffUser, agency: str) -> Result | None:
        if user.role == Role.PIMPINAN:
            return _refused(403, "read_only")
        if not user.may_act_on(agency):
            name = self.config.agencies[user.agency].name if user.agency in self.config.agencies else user.agency
            return _refused(403, "forbidden_agency", agency=name)
        return None

    def _send(self, topic: str, reply_topic: str, body: dict[str, Any]) -> Result:
        if self.client is None:
            return _engine_refusal({"error": message("engine_unavailable").as_dict()})
        try:
            reply = self.client.request(topic, reply_topic, body)
        except (EngineTimeout, ConnectionError, OSError):
            return _engine_refusal({"error": message("engine_unavailable").as_dict()})
        return Result(True, 200, reply=reply) if reply.get("ok") else _engine_refusal(reply)

    def _counter_command(self, counter: str, body: dict[str, Any]) -> Result:
        if self.client is None:
            return _engine_refusal({"error": message("engine_unavailable").as_dict()})
        topics = self.client.topics
        return self._send(topics.counter_command(counter), topics.counter_reply(counter), body)

    def counter_status(self, user: StaffUser, counter_id: str, action: str, rid: str) -> Result:
        """Close or reopen a counter (`close`, `open`): refused while a visitor is there, as at the panel."""
        counter = self.config.counters.get(counter_id)
        if counter is None:
            return _refused(404, "unknown", what=f"Loket {counter_id}")
        if action not in ("open", "close"):
            return _refused(400, "bad_form", what="action")
        return self._allowed(user, counter.agency) or self._counter_command(
            counter_id, {"request_id": rid, "action": action})

    def _service_counter(self, code: str, number: str, current: dict[str, str]) -> str | None:
        """The counter a ticket action goes through: the one the ticket stands at, else the first serving it."""
        for counter_id, at in current.items():
            if at == number and counter_id in self.config.counters and code in self.config.counters[counter_id].services:
                return counter_id
        serving = self.config.counters_serving(code)
        return serving[0].id if serving else None

    def ticket_action(self, user: StaffUser, service_code: str, action: str, number: str, rid: str,
                      to_service: str = "", current: dict[str, str] | None = None) -> Result:
        """Transfer a ticket of this service to another one, or put one of its no-shows back in the queue."""
        service = self.config.services.get(service_code)
        if service is None:
            return _refused(404, "unknown", what=f"Layanan {service_code}")
        denied = self._allowed(user, service.agency)
        if denied:
            return denied
        number = number.strip().upper()
        if not NUMBER.fullmatch(number):
            return _refused(400, "bad_form", what="nomor / number")
        if action == "transfer" and to_service not in self.config.services:
            return _refused(400, "bad_form", what="layanan tujuan / target service")
        counter_id = self._service_counter(service_code, number, current or {})
        if counter_id is None:
            return _refused(409, "unknown", what=f"Loket layanan {service_code}")
        body: dict[str, Any] = {"request_id": rid, "action": action, "number": number}
        if action == "transfer":
            body["to"] = to_service
        elif action != "reactivate":
            return _refused(400, "bad_form", what="action")
        return self._counter_command(counter_id, body)

    def notice(self, user: StaffUser, text: str, text_en: str, rid: str) -> Result:
        """Put out (or, with an empty text, take down) the hall screens' notice: admins only (it is the hall's)."""
        if user.role != Role.ADMIN:
            return _refused(403, "read_only" if user.role == Role.PIMPINAN else "forbidden")
        text, text_en = " ".join(text.split()), " ".join(text_en.split())  # one line: newlines become spaces
        if len(text) > NOTICE_MAX or len(text_en) > NOTICE_MAX:
            return _refused(400, "bad_form", what=f"maksimal {NOTICE_MAX} karakter / at most {NOTICE_MAX} characters")
        if self.client is None:
            return _engine_refusal({"error": message("engine_unavailable").as_dict()})
        topics = self.client.topics
        return self._send(topics.supervisor_request(SUPERVISOR_DEVICE), topics.supervisor_reply(SUPERVISOR_DEVICE),
                          {"request_id": rid, "action": "notice", "text": text, "text_en": text_en,
                           "by": user.username})
