"""Every word the hall and counter screens show, in Bahasa Indonesia (default) and English."""

from __future__ import annotations

TEXTS: dict[str, tuple[str, str]] = {
    "now_calling": ("NOMOR ANTRIAN", "NOW CALLING"),
    "recall": ("PANGGILAN ULANG", "CALLED AGAIN"),
    "go_to": ("SILAKAN MENUJU", "PLEASE GO TO"),
    "counter": ("LOKET", "COUNTER"),
    "recent_calls": ("Panggilan terakhir", "Recent calls"),
    "counters": ("Loket yang melayani", "Open counters"),
    "waiting": ("Menunggu", "Waiting"),
    "people": ("orang", "people"),
    "no_calls": ("Belum ada panggilan", "No calls yet"),
    "no_counters": ("Belum ada loket yang buka", "No counter is open yet"),
    "idle": ("—", "—"),
    "offline": ("Offline — menyambung ulang", "Offline — reconnecting"),
    "waiting_for_engine": ("Menunggu server antrian…", "Waiting for the queue server…"),
    "zone": ("Zona", "Zone"),
    "more": ("+{n} lainnya", "+{n} more"),
    "status_open": ("BUKA", "OPEN"),
    "status_break": ("ISTIRAHAT", "ON BREAK"),
    "status_closed": ("TUTUP", "CLOSED"),
    "serving": ("Sedang dilayani", "Now serving"),
    "nobody": ("Belum ada nomor", "No number yet"),
    "break_note": ("Loket sedang istirahat", "This counter is on a break"),
    "closed_note": ("Loket tutup", "This counter is closed"),
}


def label(key: str, lang: str = "id", **params: object) -> str:
    indonesian, english = TEXTS[key]
    text = english if lang == "en" else indonesian
    return text.format(**params) if params else text


def status_label(status: str, lang: str = "id") -> str:
    key = {"open": "status_open", "break": "status_break"}.get(status, "status_closed")
    return label(key, lang)
