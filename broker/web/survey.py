"""The phone survey page: `antrian serve --http HOST:PORT`, reached from the ticket's QR code.

A thin HTTP shell around the engine: it checks the link's token, shows the nine SKM
questions as plain HTML radio buttons (no JavaScript, any phone browser), and sends the
answers to the engine as a `survey/web/request` command over MQTT, exactly as a tablet
does. The engine alone decides whether the ticket may still answer (served, within the
survey window, not answered yet), so the one-response rule holds over both channels.
A hidden request id makes a double tap or a resent form the same single response.
"""

from __future__ import annotations

import logging
import threading
import uuid
from typing import Any

from flask import Flask, render_template_string, request
from werkzeug.serving import BaseWSGIServer, make_server

from broker.core.ikm import ELEMENTS
from broker.core.messages import message
from broker.core.survey import token_matches
from broker.mqtt.client import EngineClient, EngineTimeout
from broker.site.config import SiteConfig

log = logging.getLogger("antrian.survey_web")

FACES = ("😞", "😐", "🙂", "😄")
COLORS = ("#d64545", "#e8a33d", "#7cb342", "#2e7d32")

PAGE = """<!doctype html>
<html lang="id"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Survei Kepuasan Masyarakat - {{ site }}</title>
<style>
body{font-family:system-ui,sans-serif;margin:0;background:#f4f6f8;color:#1b2a38}
main{max-width:640px;margin:auto;padding:16px}
h1{font-size:1.3em;margin:.2em 0} .en{color:#66788a;font-size:.85em}
fieldset{border:0;background:#fff;border-radius:12px;margin:12px 0;padding:12px}
legend{font-weight:600;padding:0}
label.opt{display:block;margin:6px 0;padding:12px;border-radius:10px;border:2px solid #dde3e8;font-size:1.05em}
label.opt input{transform:scale(1.4);margin-right:10px}
.face{font-size:1.3em;margin-right:6px}
textarea{width:100%;min-height:5em;font-size:1em;box-sizing:border-box}
button{width:100%;padding:16px;font-size:1.2em;border:0;border-radius:12px;background:#1565c0;color:#fff}
.msg{background:#fff3cd;border-radius:10px;padding:12px} .ok{background:#e3f4e1}
</style></head><body><main>
<h1>Survei Kepuasan Masyarakat</h1>
<div class="en">Public satisfaction survey · {{ site }}</div>
{% if survey %}<p>Nomor antrian <b>{{ survey.number }}</b> · {{ service }}</p>{% endif %}
{% if note %}<p class="msg {{ 'ok' if done else '' }}">{{ note }}<br><span class="en">{{ note_en }}</span></p>{% endif %}
{% if form %}
<form method="post">
<input type="hidden" name="request_id" value="{{ request_id }}">
{% for e in elements %}{% set i = loop.index %}
<fieldset><legend>{{ i }}. {{ e.name }} <span class="en">{{ e.name_en }}</span></legend>
{% for label in e.labels %}{% set v = loop.index %}
<label class="opt" style="border-color:{{ colors[v-1] }}"><input type="radio" name="u{{ i }}" value="{{ v }}"
{% if chosen.get(i) == v %}checked{% endif %}><span class="face">{{ faces[v-1] }}</span>{{ label }}</label>
{% endfor %}</fieldset>
{% endfor %}
<fieldset><legend>Saran dan masukan (boleh kosong) <span class="en">Comment (optional)</span></legend>
<textarea name="comment" maxlength="500">{{ comment }}</textarea></fieldset>
<button type="submit">Kirim · Send</button>
</form>
{% endif %}
</main></body></html>
"""


def create_app(config: SiteConfig, secret: bytes, client: EngineClient) -> Flask:
    """The Flask application; `client` carries the answers to the engine."""
    app = Flask("antrian-survey")
    topics = client.topics
    services = config.services

    def ask(body: dict[str, Any]) -> dict[str, Any]:
        try:
            return client.request(topics.survey_request("web"), topics.survey_reply("web"), body)
        except (EngineTimeout, ConnectionError, OSError):
            return {"ok": False, "error": message("engine_unavailable").as_dict()}

    def page(status: int = 200, **values: Any):
        survey = values.get("survey")
        service = services.get(survey["service"]).name if survey and survey.get("service") in services else ""
        context = {"site": config.site.name, "elements": ELEMENTS, "faces": FACES, "colors": COLORS,
                   "form": False, "chosen": {}, "comment": "", "note": "", "note_en": "", "done": False,
                   "request_id": uuid.uuid4().hex, "service": service} | values
        return render_template_string(PAGE, **context), status

    def refusal(reply: dict[str, Any], survey: dict | None = None, status: int = 409):
        error = reply.get("error", {})
        return page(status, note=error.get("message", ""), note_en=error.get("message_en", ""), survey=survey)

    @app.route("/survei/<ticket>/<token>", methods=["GET", "POST"])
    def survey_page(ticket: str, token: str):
        if not token_matches(secret, ticket, token):  # checked here too: a wrong link never reaches MQTT
            return refusal({"error": message("survey_bad_token").as_dict()}, status=404)
        if request.method == "GET":
            reply = ask({"ticket": ticket, "token": token})
            if not reply.get("ok"):
                return refusal(reply)
            return page(form=True, survey=reply["survey"])
        chosen: dict[int, int] = {}
        for i in range(1, len(ELEMENTS) + 1):
            value = request.form.get(f"u{i}", "")
            if value in ("1", "2", "3", "4"):
                chosen[i] = int(value)
        comment = request.form.get("comment", "")[:500]
        request_id = request.form.get("request_id", "")[:64] or uuid.uuid4().hex
        if len(chosen) < len(ELEMENTS):
            missing = ", ".join(str(i) for i in range(1, len(ELEMENTS) + 1) if i not in chosen)
            return page(422, form=True, chosen=chosen, comment=comment, request_id=request_id,
                        note=f"Mohon jawab semua pertanyaan (belum: {missing})",
                        note_en=f"Please answer every question (missing: {missing})")
        reply = ask({"request_id": request_id, "ticket": ticket, "token": token, "comment": comment,
                     "answers": [chosen[i] for i in range(1, len(ELEMENTS) + 1)]})
        if not reply.get("ok"):
            return refusal(reply)
        return page(done=True, survey=reply["survey"], note="Terima kasih atas penilaian Anda.",
                    note_en="Thank you for your feedback.")

    @app.route("/")
    def home():
        return page(note="Pindai kode QR pada karcis antrian Anda untuk mengisi survei.",
                    note_en="Scan the QR code on your ticket to take the survey.")

    return app


class SurveyWebServer:
    """The page in a background thread of the engine process; stop() ends it."""

    def __init__(self, listen: str, config: SiteConfig, secret: bytes, mqtt_url: str):
        host, _, port = listen.rpartition(":")
        self.client = EngineClient(mqtt_url, config.site.id, name=f"antrian-survey-web-{config.site.id}")
        self.server: BaseWSGIServer = make_server(host or "127.0.0.1", int(port),
                                                  create_app(config, secret, self.client), threaded=True)
        self.url = f"http://{host or '127.0.0.1'}:{self.server.server_port}"
        self._thread = threading.Thread(target=self.server.serve_forever, name="survey-web", daemon=True)

    def start(self) -> SurveyWebServer:
        self.client.connection.start()  # connects in the background; requests wait for it
        self._thread.start()
        log.info("survey page on %s", self.url)
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.client.stop()
