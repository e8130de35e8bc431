"""The web tier's words, in Bahasa Indonesia first and English as an option.

Pages choose the language with `?lang=en` (no cookie, no JavaScript); anything else is
Indonesian. Templates call `t("key")`; the engine's own refusals arrive already
translated (`message` / `message_en`) and are shown as they come.
"""

from __future__ import annotations

LANGS = ("id", "en")

TEXTS: dict[str, tuple[str, str]] = {
    # key: (Bahasa Indonesia, English)
    "survey_title": ("Survei Kepuasan Masyarakat", "Public satisfaction survey"),
    "ticket_line": ("Nomor antrian {number} · {service}", "Ticket {number} · {service}"),
    "intro": ("Bagaimana pelayanan yang Anda terima? Pilih satu jawaban untuk setiap pertanyaan.",
              "How was the service you received? Choose one answer for each question."),
    "comment": ("Saran dan masukan (boleh kosong)", "Suggestions (optional)"),
    "send": ("Kirim", "Send"),
    "missing": ("Mohon jawab semua pertanyaan (belum dijawab: {missing})",
                "Please answer every question (not answered yet: {missing})"),
    "thanks": ("Terima kasih atas penilaian Anda.", "Thank you for your feedback."),
    "scan_qr": ("Pindai kode QR pada tiket antrian Anda untuk mengisi survei.",
                "Scan the QR code on your queue ticket to take the survey."),
    "not_found": ("Halaman tidak ditemukan. Pindai kembali kode QR pada tiket antrian Anda.",
                  "Page not found. Scan the QR code on your queue ticket again."),
    "bad_link": ("Tautan survei tidak sah. Pindai kembali kode QR pada tiket antrian Anda.",
                 "The survey link is not valid. Scan the QR code on your queue ticket again."),
    "too_many": ("Terlalu banyak permintaan dari perangkat Anda. Silakan coba lagi sebentar lagi.",
                 "Too many requests from your device. Please try again in a moment."),
    "too_large": ("Isian terlalu panjang.", "The form is too long."),
    "not_allowed": ("Cara membuka halaman ini tidak didukung.", "This page cannot be opened that way."),
    "bad_request": ("Permintaan tidak dapat dibaca.", "The request could not be read."),
    "error": ("Terjadi gangguan. Silakan coba lagi sebentar lagi.", "Something went wrong. Please try again shortly."),
    "other_language": ("English", "Bahasa Indonesia"),
}


def language(value: str | None) -> str:
    """The page's language from `?lang=`: English only when asked for, else Indonesian."""
    return "en" if (value or "").strip().lower() == "en" else "id"


def text(key: str, lang: str, **params: object) -> str:
    indonesian, english = TEXTS[key]
    return (english if lang == "en" else indonesian).format(**params)
