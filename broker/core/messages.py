"""Every refusal and notice the engine can give, in Bahasa Indonesia and English.

Replies carry a stable `code` for programs and ready sentences for people, so a
kiosk, a counter panel and the CLI all say the same thing in the same words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CATALOG: dict[str, tuple[str, str]] = {
    # code: (Bahasa Indonesia, English)
    "bad_payload": ("Pesan tidak dapat dibaca: {detail}", "The message could not be read: {detail}"),
    "unknown_topic": ("Topik tidak dikenal: {topic}", "Unknown topic: {topic}"),
    "unknown_action": ("Perintah '{action}' tidak dikenal. Pilihan: {choices}",
                       "Unknown action '{action}'. Choices: {choices}"),
    "unknown_service": ("Layanan '{service}' tidak ada", "There is no service '{service}'"),
    "unknown_counter": ("Loket '{counter}' tidak ada", "There is no counter '{counter}'"),
    "unknown_priority": ("Kelompok prioritas '{group}' tidak dikenal. Pilihan: {choices}",
                         "Unknown priority group '{group}'. Choices: {choices}"),
    "priority_not_offered": ("Layanan {service} tidak menyediakan antrian prioritas",
                             "Service {service} does not offer priority tickets"),
    "service_closed": ("Layanan {service} sedang tutup. Jam buka: {hours}",
                       "Service {service} is closed now. Opening hours: {hours}"),
    "quota_reached": ("Kuota harian layanan {service} ({quota} nomor) sudah habis. Silakan datang kembali besok",
                      "The daily quota of service {service} ({quota} tickets) is used up. Please come back tomorrow"),
    "nobody_waiting": ("Tidak ada antrian yang menunggu untuk loket {counter}",
                       "Nobody is waiting for counter {counter}"),
    "no_current_ticket": ("Loket {counter} sedang tidak melayani nomor apa pun",
                          "Counter {counter} is not serving any ticket"),
    "counter_busy": ("Loket {counter} masih melayani nomor {number}. Selesaikan dulu",
                     "Counter {counter} is still serving {number}. Finish it first"),
    "counter_status": ("Loket {counter} sedang {status}, tidak dapat langsung {new}. Buka loket terlebih dahulu",
                       "Counter {counter} is {status}; it cannot be {new} without opening first"),
    "not_served_here": ("Loket {counter} tidak melayani layanan {service}",
                        "Counter {counter} does not serve service {service}"),
    "unknown_ticket": ("Nomor {number} tidak ditemukan hari ini", "Ticket {number} was not found today"),
    "ticket_state": ("Nomor {number} berstatus {state}, tidak dapat {action}",
                     "Ticket {number} is {state} and cannot be {action}"),
    "recalls_required": ("Panggil ulang nomor {number} minimal {needed} kali sebelum ditandai tidak hadir",
                         "Recall {number} at least {needed} times before marking it a no-show"),
    "at_other_counter": ("Nomor {number} sedang dilayani di loket {other}",
                         "Ticket {number} is being served at counter {other}"),
    "same_service": ("Nomor {number} sudah berada di layanan {service}", "Ticket {number} is already in service {service}"),
    "recall_too_soon": ("Nomor {number} baru saja dipanggil. Panggil ulang lagi dalam {seconds} detik",
                        "{number} was called only just now. Recall it again in {seconds} s"),
    "not_signed_in": ("Belum ada petugas yang masuk di loket {counter}. Masuk dengan PIN terlebih dahulu",
                      "No officer is signed in at counter {counter}. Sign in with a PIN first"),
    "unknown_officer": ("Petugas '{officer}' tidak terdaftar", "There is no officer '{officer}'"),
    "wrong_pin": ("PIN salah. Silakan coba lagi", "Wrong PIN. Please try again"),
    "officer_not_here": ("{name} tidak terdaftar untuk loket {counter}", "{name} may not staff counter {counter}"),
    "sign_in_locked": ("Terlalu banyak PIN salah di loket {counter}. Coba lagi dalam {seconds} detik",
                       "Too many wrong PINs at counter {counter}. Try again in {seconds} s"),
    "survey_unknown_ticket": ("Nomor antrian ini belum dilayani atau masa survei sudah lewat",
                              "This ticket has not been served yet, or its survey period is over"),
    "survey_bad_token": ("Tautan survei tidak sah. Pindai kembali kode QR pada tiket Anda",
                         "The survey link is not valid. Scan the QR code on your ticket again"),
    "survey_already_answered": ("Survei untuk nomor {number} sudah diisi. Terima kasih",
                                "The survey for ticket {number} was already answered. Thank you"),
    "survey_other_counter": ("Nomor {number} dilayani di loket {other}, bukan di loket {counter}",
                             "Ticket {number} was served at counter {other}, not at counter {counter}"),
    "survey_bad_answers": ("Jawaban survei tidak lengkap: {detail}", "The survey answers are incomplete: {detail}"),
    "storage_failed": ("Data tidak dapat disimpan ({detail}). Nomor tidak diterbitkan, silakan coba lagi",
                       "The data could not be stored ({detail}). Nothing was done; please try again"),
    "broker_refused": ("Broker MQTT menolak koneksi sebagai {name} ({detail}). Periksa nama pengguna dan kata "
                       "sandi perangkat (--user/--password atau ANTRIAN_MQTT_USER/ANTRIAN_MQTT_PASSWORD)",
                       "The MQTT broker refused the connection as {name} ({detail}). Check the device's user name "
                       "and password (--user/--password or ANTRIAN_MQTT_USER/ANTRIAN_MQTT_PASSWORD)"),
    "engine_unavailable": ("Server antrian tidak menjawab. Silakan coba lagi sebentar lagi",
                           "The queue server does not answer. Please try again shortly"),
}


# State and action names travel as stable codes in `params`; sentences show them in words.
WORDS: dict[str, tuple[str, str]] = {
    # ticket states
    "waiting": ("menunggu", "waiting"), "called": ("sedang dipanggil", "called"), "done": ("selesai", "done"),
    "no_show": ("tidak hadir", "a no-show"), "expired": ("kedaluwarsa", "expired"),
    "mark_no_show": ("ditandai tidak hadir", "marked a no-show"),
    # counter statuses
    "open": ("buka", "open"), "break": ("istirahat", "on a break"), "closed": ("tutup", "closed"),
    # ticket actions
    "call": ("dipanggil", "called"), "recall": ("dipanggil ulang", "recalled"),
    "finish": ("diselesaikan", "finished"), "transfer": ("dialihkan", "transferred"),
    "reactivate": ("diaktifkan kembali", "reactivated"), "expire": ("kedaluwarsa", "expired"),
}
_WORD_PARAMS = ("state", "status", "new", "action")


@dataclass(frozen=True)
class Message:
    """A coded message with its parameters; renders in either language."""

    code: str
    params: dict[str, Any]

    def text(self, language: str = "id") -> str:
        indonesian, english = CATALOG[self.code]
        template = english if language == "en" else indonesian
        column = 1 if language == "en" else 0
        params = {key: self._word(key, value, column) for key, value in self.params.items()}
        try:
            return template.format(**params)
        except (KeyError, IndexError):
            return template

    @staticmethod
    def _word(key: str, value: Any, column: int) -> Any:
        word = f"mark_{value}" if key == "action" and value == "no_show" else str(value)
        return WORDS[word][column] if key in _WORD_PARAMS and word in WORDS else value

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.text("id"), "message_en": self.text("en"),
                "params": self.params}


def message(code: str, **params: Any) -> Message:
    if code not in CATALOG:
        raise KeyError(f"no message '{code}' in the catalog")
    return Message(code, params)
