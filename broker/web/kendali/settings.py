"""Configuration in the browser: agencies, services, counters, officers and closures, each save checked, kept as a
version and taken by the running engine without a restart.

A save (`Settings.commit`) goes like this, and stops with a sentence at the first step that fails:
1. the form is written into the config text (broker.web.kendali.editing, comments kept) and checked with
   parse_config, the checker of `antrian config check`; its problems go beside their fields;
2. the text is written beside the engine's config file (broker.site.versions.candidate_path) and the engine
   is asked over MQTT (`reload_config`, as the control room's supervisor identity) to take it. The engine
   checks it again, refuses it when it drops a service people wait for or does not fit today's log, else
   rebuilds itself from its log with it (the queue stays), replaces its config file and republishes
   state/config and every state topic. The engine stays the only writer of the hall's state and of the
   config file the hall runs on; a config that fails never replaces the good one;
3. only a config the engine took becomes a new version (broker.site.versions) and the control room's own.
A roll back is step 2 and 3 with an old version's text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, request, url_for

from broker.access.staff import Role, StaffUser
from broker.core.model import AGENCY_KINDS
from broker.mqtt.client import EngineTimeout, new_request_id
from broker.site.config import SAMPLE_CONFIG, SiteConfig, config_warnings, parse_config
from broker.site.versions import ConfigVersions, candidate_path, diff, sha256, write_atomically
from broker.web.kendali import editing
from broker.web.kendali.actions import SUPERVISOR_DEVICE

RELOAD_TIMEOUT_S = 20.0  # the engine rebuilds itself from today's log: a busy day's log takes a few seconds

TEXTS = {  # (Indonesian, English)
    "settings": ("Konfigurasi", "Configuration"), "versions": ("Riwayat versi", "Version history"),
    "agencies": ("Instansi", "Agencies"), "services": ("Layanan", "Services"), "counters": ("Loket", "Counters"),
    "officers": ("Petugas", "Officers"), "closures": ("Hari tutup", "Closures"),
    "edit": ("Ubah", "Edit"), "add": ("Tambah", "Add"), "save": ("Simpan", "Save"), "remove": ("Hapus", "Remove"),
    "back": ("Kembali", "Back"), "rollback": ("Kembalikan ke versi ini", "Roll back to this version"),
    "read_only": ("Anda hanya dapat melihat konfigurasi.", "You can only look at the configuration."),
    "no_file": ("Ruang Kendali berjalan dengan konfigurasi contoh, bukan berkas --config: konfigurasi hanya dapat "
                "dilihat.", "The control room runs the shipped sample, not a --config file: the configuration can "
                "only be looked at."),
    "saved": ("Tersimpan sebagai versi {n}; mesin antrian sudah memakainya.",
              "Saved as version {n}; the engine uses it now."),
    "rolled_back": ("Versi {old} dipakai lagi, sebagai versi {n}.", "Version {old} is in force again, as version {n}."),
    "unchanged": ("Tidak ada yang berubah.", "Nothing changed."),
    "problems": ("Konfigurasi tidak disimpan: {n} masalah. Konfigurasi yang berlaku tidak berubah.",
                 "The configuration was not saved: {n} problem(s). The one in force is unchanged."),
    "changed_meanwhile": ("Konfigurasi telah diubah orang lain sejak halaman ini dibuka: buka lagi halamannya.",
                          "Someone else changed the configuration since this page was opened: open it again."),
    "forbidden_agency": ("Anda hanya dapat mengubah layanan, loket dan petugas instansi Anda sendiri.",
                         "You may change only your own agency's services, counters and officers."),
    "foreign_items": ("{items} bukan milik instansi Anda.", "{items} belong(s) to another agency."),
    "bad_per_day": ("'{part}' bukan jam per hari seperti jumat = 08:00-11:00, 13:00-15:00.",
                    "'{part}' is not hours of one day such as fri = 08:00-11:00, 13:00-15:00."),
    "bad_pin": ("PIN terdiri dari 4 sampai 12 angka.", "A PIN is 4 to 12 digits."),
    "pin_needed": ("Petugas baru memerlukan PIN.", "A new officer needs a PIN."),
    "engine_away": ("Mesin antrian tidak menjawab: konfigurasi tidak disimpan, yang berlaku tidak berubah.",
                    "The engine did not answer: the configuration was not saved, the one in force is unchanged."),
    "warnings": ("Peringatan", "Warnings"), "diff": ("Perubahan", "Changes"), "version": ("Versi", "Version"),
    "when": ("Waktu", "When"), "who": ("Oleh", "By"), "note": ("Catatan", "Note"), "current": ("berlaku", "in force"),
    "new_entry": ("baru", "new"), "none_yet": ("Belum ada versi: versi pertama dibuat saat simpan pertama.",
                                               "No version yet: the first is made at the first save."),
    "pin_reset": ("kosongkan agar PIN tetap; isi untuk PIN baru", "leave empty to keep the PIN; fill in a new one"),
    "f.code": ("Kode", "Code"), "f.id": ("ID", "ID"), "f.name": ("Nama", "Name"), "f.name_en": ("Nama (Inggris)",
                                                                                               "Name (English)"),
    "f.agency": ("Instansi", "Agency"), "f.days": ("Hari buka", "Opening days"), "f.hours": ("Jam buka",
                                                                                        "Opening hours"),
    "f.per_day": ("Jam per hari", "Hours per day"), "f.quota": ("Kuota per hari", "Daily quota"),
    "f.priority": ("Tiket prioritas", "Priority tickets"), "f.notice": ("Pemberitahuan di kios", "Kiosk notice"),
    "f.requirements": ("Persyaratan", "Requirements"), "f.target_wait_min": ("Target tunggu (menit)",
                                                                             "Target wait (minutes)"),
    "f.short": ("Nama singkat", "Short name"), "f.kind": ("Jenis", "Kind"), "f.zone": ("Zona", "Zone"),
    "f.services": ("Layanan (kode)", "Services (codes)"), "f.counters": ("Loket (ID)", "Counters (ids)"),
    "f.pin": ("PIN", "PIN"), "f.date": ("Tanggal", "Date"), "f.from": ("Dari", "From"), "f.to": ("Sampai", "To"),
    "f.reason": ("Alasan", "Reason"), "f.reason_en": ("Alasan (Inggris)", "Reason (English)"),
    "f.agencies": ("Instansi (kosong: seluruh MPP)", "Agencies (empty: the whole site)"),
}
HINTS = {"days": "mon, tue, wed / senin, selasa", "hours": "08:00-15:00", "per_day": "jumat = 08:00-11:00, 13:00-15:00",
         "quota": "", "date": "2026-12-31", "from": "2026-12-29", "to": "2026-12-31", "services": "A, B",
         "counters": "1, 2", "agencies": "dukcapil"}


def stext(key: str, lang: str, **params: Any) -> str:
    pair = TEXTS.get(key, (key, key))
    return (pair[1] if lang == "en" else pair[0]).format(**params)


@dataclass(frozen=True)
class EngineProblem:
    """A problem the engine found in a config the control room had passed (a newer engine, a file changed
    meanwhile), as the engine's reply says it in both languages."""

    id: str
    en: str

    def describe(self, lang: str = "id") -> str:
        return self.en if lang == "en" else self.id

    def __str__(self) -> str:  # the audit log's language
        return self.en


@dataclass
class Saved:
    """What a save gave: ok with its version, or the sentence and the checker's problems."""

    ok: bool
    status: int = 200
    sentence: str = ""
    sentence_en: str = ""
    problems: list[Any] = field(default_factory=list)  # broker.site.config.Problem, or the engine's EngineProblem
    number: int = 0


class Settings:
    """The config file the engine runs, its versions, and the way to make the engine take a new text."""

    def __init__(self, kendali: Any):
        self.k = kendali
        self.versions = ConfigVersions(Path(kendali.store.path).parent)
        self._running: str | None = None  # the sha256 of the config the control room runs, once the file is read

    @property
    def path(self) -> Path | None:
        source = self.k.config.source
        path = Path(source) if source else None
        if path is None or not path.is_file() or path.resolve() == SAMPLE_CONFIG.resolve():
            return None
        return path

    def current(self) -> str:
        """The config file's text; when the engine took another one meanwhile (another control room, a roll
        back), the control room follows it here."""
        path = self.path
        if path is None:
            return ""
        text = path.read_text(encoding="utf-8")
        digest = sha256(text)
        if self._running is None:
            self._running = digest  # the file the control room was started with
        elif digest != self._running:
            config, _ = editing.check(text, str(path))
            if config is not None:  # the engine replaced it (or a technician did: followed once it passes)
                self.adopt(config)
                self._running = digest
        return text

    def commit(self, user: StaffUser, old_text: str, new_text: str, note: str) -> Saved:
        path = self.path
        if path is None:
            return Saved(False, 409, TEXTS["no_file"][0], TEXTS["no_file"][1])
        if new_text == old_text:
            latest = self.versions.latest()
            return Saved(True, 200, TEXTS["unchanged"][0], TEXTS["unchanged"][1], number=latest.number if latest else 0)
        config, problems = editing.check(new_text, str(path))
        if config is None:
            return Saved(False, 400, TEXTS["problems"][0].format(n=len(problems)),
                         TEXTS["problems"][1].format(n=len(problems)), problems)
        client = self.k.client
        if client is None:
            return Saved(False, 503, TEXTS["engine_away"][0], TEXTS["engine_away"][1])
        candidate = candidate_path(path)
        write_atomically(candidate, new_text)
        topics = client.topics
        try:
            reply = client.request(topics.supervisor_request(SUPERVISOR_DEVICE), topics.supervisor_reply(SUPERVISOR_DEVICE),
                                   {"request_id": new_request_id(), "action": "reload_config", "sha256": sha256(new_text),
                                    "by": user.username}, timeout=RELOAD_TIMEOUT_S)
        except (EngineTimeout, ConnectionError, OSError):
            return Saved(False, 503, TEXTS["engine_away"][0], TEXTS["engine_away"][1])
        if not reply.get("ok"):
            error = reply.get("error") if isinstance(reply.get("error"), dict) else {}
            said = [str(p) for p in reply.get("problems") or []]
            said_en = [str(p) for p in reply.get("problems_en") or []]
            if len(said_en) != len(said):  # an engine of before problems_en: its problems were English
                said_en = said
            return Saved(False, 409, str(error.get("message") or ""), str(error.get("message_en") or ""),
                         [EngineProblem(i, e) for i, e in zip(said, said_en, strict=True)])
        self.versions.ensure_first(old_text)
        version = self.versions.record(new_text, user.username, note)
        self.adopt(parse_config(new_text, str(path)))
        self._running = sha256(new_text)
        return Saved(True, 200, number=version.number)

    def adopt(self, config: SiteConfig) -> None:
        """The control room's own pages and actions follow the config the engine took."""
        from zoneinfo import ZoneInfo

        self.k.config = config
        self.k.supervisor.config = config
        self.k.zone = ZoneInfo(config.site.timezone)


def _settings() -> Settings:
    from flask import current_app

    return current_app.extensions["kendali_settings"]


def make_blueprint() -> Blueprint:
    from broker.web.kendali import app as kapp  # loaded by the time its factory calls this

    bp = Blueprint("konfigurasi", __name__)

    def lang() -> str:
        return kapp._lang()

    def st(key: str, **params: Any) -> str:
        return stext(key, lang(), **params)

    def render(template: str, status: int = 200, **values: Any) -> Any:
        return kapp._render(template, status, st=st, hints=HINTS, **values)

    def visible(table: str, entry: dict[str, Any]) -> bool:
        user: StaffUser = g.user
        if user.role != Role.KOORDINATOR:
            return True
        return table in editing.COORDINATED and editing.entry_agency(None, table, entry) == user.agency

    def audit(action: str, target: str, detail: str, ok: bool) -> None:
        kapp._k().store.audit(g.user.username, action, target, detail[:300], kapp._client(), ok=ok)

    @bp.route("/konfigurasi")
    @kapp.login_required
    def overview() -> Any:
        s = _settings()
        doc = editing.parse_doc(s.current()) if s.path else None
        tables = []
        for table in editing.TABLES:
            if g.user.role == Role.KOORDINATOR and table not in editing.COORDINATED:
                continue
            rows = []
            for i, entry in enumerate(editing.entries(doc, table) if doc is not None else []):
                if isinstance(entry, dict) and visible(table, entry):
                    key = str(i + 1) if table == "closures" else str(entry.get(editing.KEYS[table], ""))
                    label = str(entry.get("name") or entry.get("reason") or "")
                    if table == "counters":
                        label = ", ".join(filter(None, [label, " ".join(str(c) for c in entry.get("services") or [])]))
                    elif table == "closures":
                        label = f"{entry.get('date') or str(entry.get('from', '')) + ' – ' + str(entry.get('to', ''))}: {label}"
                    rows.append((key, label, editing.entry_agency(None, table, entry),
                                 editing.may_edit(g.user, table, editing.entry_agency(None, table, entry)
                                                  if table != "closures" else "")))
            may_add = g.user.role == Role.ADMIN or (g.user.role == Role.KOORDINATOR and table in editing.COORDINATED)
            tables.append((table, rows, may_add and s.path is not None))
        warnings = config_warnings(kapp._k().config)
        return render("kendali/settings.html", tables=tables, has_file=s.path is not None,
                      warnings=[w.en if lang() == "en" else w.id for w in warnings])

    def edit_page(table: str, key: str, values: dict[str, str], status: int = 200,
                  by_field: dict[str, list[str]] | None = None, general: list[str] | None = None,
                  sentence: str = "", base: str = "") -> Any:
        s = _settings()
        may = s.path is not None and g.user.may_act
        return render("kendali/settings_edit.html", status, table=table, key=key, values=values,
                      fields=editing.FIELDS[table], by_field=by_field or {}, general=general or [], sentence=sentence,
                      base=base or sha256(s.current()), may=may, kinds=AGENCY_KINDS,
                      agencies=[(a.id, a.name) for a in kapp._k().config.agencies.values()
                                if g.user.role != Role.KOORDINATOR or a.id == g.user.agency],
                      new=key == "baru", removable=key != "baru" and table != "agencies")

    def target(table: str, key: str) -> tuple[Any, int | None]:
        if table not in editing.TABLES:
            abort(404)
        s = _settings()
        doc = editing.parse_doc(s.current()) if s.path else tomlkit_empty()
        if key == "baru":
            return doc, None
        index = editing.find(doc, table, key)
        if index is None:
            abort(404)
        return doc, index

    def refuse(table: str, key: str, reason: str, **params: Any) -> Any:
        audit(f"config_{table}", key, f"refused: {reason}", False)
        return render("kendali/message.html", 403, note=st(reason, **params))

    @bp.route("/konfigurasi/<table>/<key>", methods=["GET", "POST"])
    @kapp.login_required
    def edit(table: str, key: str) -> Any:
        doc, index = target(table, key)
        user: StaffUser = g.user
        entry = editing.entries(doc, table)[index] if index is not None else None
        agency = editing.entry_agency(None, table, entry) if entry is not None else \
            (user.agency if user.role == Role.KOORDINATOR else "")
        if entry is not None and not visible(table, entry):
            return refuse(table, key, "forbidden_agency")
        if request.method == "GET":
            return edit_page(table, key, editing.form_values(table, entry))
        if user.role == Role.PIMPINAN:
            return refuse(table, key, "read_only")
        if not editing.may_edit(user, table, agency):
            return refuse(table, key, "forbidden_agency")
        form = {f.name: request.form.get(f.name, "")[:2000] for f in editing.FIELDS[table]}
        s = _settings()
        old = s.current()
        if request.form.get("base") != sha256(old):
            return edit_page(table, key, form, 409, sentence=st("changed_meanwhile"))
        try:
            index = editing.apply_form(doc, table, index, form, user, kapp._k().config)
        except editing.EditRefused as exc:
            if exc.key == "foreign_items":
                audit(f"config_{table}", key, f"refused: {exc.key} {exc.params}", False)
                return edit_page(table, key, form, 403, {exc.field: [st(exc.key, **exc.params)]},
                                 sentence=st(exc.key, **exc.params))
            return edit_page(table, key, form, 400, {exc.field: [st(exc.key, **exc.params)]},
                             sentence=st(exc.key, **exc.params))
        new_key = key if key != "baru" else (form.get(editing.KEYS.get(table, ""), "") or
                                             str(len(editing.entries(doc, table))))
        saved = s.commit(user, old, editing.dump(doc), f"{table} {new_key}")
        return after_save(table, key, new_key, form, index, saved)

    def after_save(table: str, key: str, new_key: str, form: dict[str, str], index: int | None, saved: Saved) -> Any:
        if saved.ok:
            audit(f"config_{table}", new_key, f"version {saved.number}", True)
            flash(st("saved", n=saved.number) if saved.number and not saved.sentence else
                  (saved.sentence_en if lang() == "en" else saved.sentence) or st("saved", n=saved.number), "ok")
            return redirect(url_for("konfigurasi.edit", table=table, key=new_key if key == "baru" else key), 303)
        audit(f"config_{table}", new_key, "refused: " + "; ".join(str(p) for p in saved.problems)[:250]
              or saved.sentence_en, False)
        problems = [p for p in saved.problems if not isinstance(p, EngineProblem)]
        by_field, general = editing.sort_problems(problems, table, index, lang())
        general += [p.describe(lang()) for p in saved.problems if isinstance(p, EngineProblem)]
        return edit_page(table, key, form, saved.status, by_field, general,
                         saved.sentence_en if lang() == "en" else saved.sentence)

    @bp.route("/konfigurasi/<table>/<key>/hapus", methods=["POST"])
    @kapp.login_required
    def delete(table: str, key: str) -> Any:
        doc, index = target(table, key)
        if index is None or table == "agencies":
            abort(404)
        user: StaffUser = g.user
        entry = editing.entries(doc, table)[index]
        if user.role == Role.PIMPINAN:
            return refuse(table, key, "read_only")
        if not editing.may_edit(user, table, editing.entry_agency(None, table, entry)):
            return refuse(table, key, "forbidden_agency")
        s = _settings()
        old = s.current()
        if request.form.get("base") != sha256(old):
            return edit_page(table, key, editing.form_values(table, entry), 409, sentence=st("changed_meanwhile"))
        editing.remove(doc, table, index)
        saved = s.commit(user, old, editing.dump(doc), f"{table} {key} removed")
        if saved.ok:
            audit(f"config_{table}_remove", key, f"version {saved.number}", True)
            flash(st("saved", n=saved.number), "ok")
            return redirect(url_for("konfigurasi.overview"), 303)
        return after_save(table, key, key, editing.form_values(table, entry), None, saved)

    @bp.route("/konfigurasi/versi")
    @bp.route("/konfigurasi/versi/<int:number>")
    @kapp.login_required
    def versions(number: int | None = None) -> Any:
        if g.user.role == Role.KOORDINATOR:
            return refuse("versions", str(number or ""), "forbidden_agency")
        s = _settings()
        history = s.versions.history()
        shown = s.versions.get(number) if number else (history[0] if history else None)
        if number and shown is None:
            abort(404)
        before = s.versions.get(shown.number - 1) if shown else None
        lines = diff(before.text if before else "", shown.text, f"versi {shown.number - 1}" if before else "-",
                     f"versi {shown.number}") if shown else []
        current = sha256(s.current()) if s.path else ""
        return render("kendali/settings_versions.html", history=history, shown=shown, lines=lines, current=current,
                      when=kapp._when, base=current)

    @bp.route("/konfigurasi/versi/<int:number>/kembalikan", methods=["POST"])
    @kapp.login_required
    def rollback(number: int) -> Any:
        if g.user.role != Role.ADMIN:
            return refuse("versions", str(number), "read_only" if g.user.role == Role.PIMPINAN else "forbidden_agency")
        s = _settings()
        old_version = s.versions.get(number)
        if old_version is None:
            abort(404)
        old = s.current()
        if request.form.get("base") != sha256(old):
            flash(st("changed_meanwhile"), "warn")
            return redirect(url_for("konfigurasi.versions", number=number), 303)
        saved = s.commit(g.user, old, old_version.text, f"rollback to {number}")
        audit("config_rollback", f"version {number}", f"version {saved.number}" if saved.ok else
              "refused: " + (saved.sentence_en or ""), saved.ok)
        if saved.ok:
            flash(st("rolled_back", old=number, n=saved.number), "ok")
        else:
            flash(" ".join([saved.sentence_en if lang() == "en" else saved.sentence] +
                           [p.describe(lang()) for p in saved.problems]),
                  "warn")
        return redirect(url_for("konfigurasi.versions"), 303)

    return bp


def tomlkit_empty() -> Any:
    return editing.parse_doc("")
