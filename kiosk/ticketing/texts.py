"""Every word the kiosk screens and the printed ticket show, in Bahasa Indonesia (default) and English.

Written for someone who has never used a touchscreen: each screen says what to
touch, in plain words, and never uses jargon such as "tap" or "select".
"""

from __future__ import annotations

TEXTS: dict[str, tuple[str, str]] = {
    # home
    "welcome": ("Selamat datang", "Welcome"),
    "touch_agency": ("Sentuh kotak instansi yang ingin Anda tuju", "Touch the box of the office you want to visit"),
    "language_switch": ("English", "Bahasa Indonesia"),
    "step": ("Langkah {n} dari {total}", "Step {n} of {total}"),
    "services_count": ("{n} layanan", "{n} service(s)"),
    "agency_closed": ("Tutup sekarang", "Closed now"),
    "no_agencies": ("Belum ada layanan yang dapat dipilih", "No service can be chosen yet"),
    # services
    "touch_service": ("Sentuh layanan yang Anda perlukan", "Touch the service you need"),
    "waiting_people": ("{n} orang menunggu", "{n} people waiting"),
    "nobody_waiting": ("Tidak ada antrian", "Nobody waiting"),
    "wait_about": ("tunggu {duration}", "wait {duration}"),
    "requirements": ("Syarat", "Requirements"),
    "closed_badge": ("TUTUP", "CLOSED"),
    "quota_badge": ("KUOTA HABIS", "FULL TODAY"),
    "opens": ("Buka: {hours}", "Open: {hours}"),
    "back": ("Kembali", "Back"),
    "home": ("Awal", "Start"),
    # priority
    "priority_question": ("Apakah Anda termasuk salah satu kelompok ini?",
                          "Do you belong to one of these groups?"),
    "priority_hint": ("Kelompok ini dilayani lebih dahulu, gratis (UU 25/2009 pasal 29)",
                      "These groups are served first, free of charge (Law 25/2009, article 29)"),
    "regular_ticket": ("Tidak, ambil nomor biasa", "No, take a regular number"),
    "lansia": ("Lansia (60 tahun ke atas)", "Elderly (60 or older)"),
    "disabilitas": ("Penyandang disabilitas", "Person with a disability"),
    "ibu_hamil": ("Ibu hamil", "Pregnant woman"),
    "anak": ("Anak-anak", "Child"),
    "korban_bencana": ("Korban bencana", "Disaster victim"),
    "priority": ("Prioritas", "Priority"),
    # issuing and ticket
    "please_wait": ("Mohon tunggu, nomor Anda sedang dibuat…", "Please wait, your number is being made…"),
    "your_number": ("NOMOR ANTRIAN ANDA", "YOUR NUMBER"),
    "ahead": ("Antrian di depan Anda: {n} orang", "People ahead of you: {n}"),
    "ahead_none": ("Tidak ada antrian di depan Anda", "Nobody is ahead of you"),
    "est_wait": ("Perkiraan waktu tunggu: {duration}", "Estimated wait: {duration}"),
    "take_ticket": ("Silakan ambil tiket Anda di bawah layar", "Please take your ticket below the screen"),
    "printing": ("Tiket sedang dicetak…", "Printing your ticket…"),
    "print_failed": ("Maaf, tiket tidak dapat dicetak.", "Sorry, the ticket could not be printed."),
    "scan_qr": ("Pindai kode QR ini dengan ponsel Anda, atau catat nomor Anda.",
                "Scan this QR code with your phone, or write your number down."),
    "note_number": ("Catat atau foto nomor Anda. Petugas sudah diberi tahu.",
                    "Write down or photograph your number. Staff have been told."),
    "done": ("Selesai", "Done"),
    # notices
    "service_closed_title": ("Layanan ini sedang tutup", "This service is closed now"),
    "service_closed_body": ("Silakan datang kembali pada jam buka.", "Please come back during opening hours."),
    "quota_title": ("Kuota hari ini sudah habis", "Today's numbers are all taken"),
    "quota_body": ("Semua nomor untuk {service} hari ini sudah diambil (kuota {quota} nomor). "
                   "Silakan datang kembali besok pagi.",
                   "All numbers for {service} today are taken (the limit is {quota}). "
                   "Please come back tomorrow morning."),
    "refused_title": ("Nomor tidak dapat dibuat", "No number could be made"),
    "out_of_service_title": ("Mesin tiket tidak dapat digunakan", "This ticket machine is out of service"),
    "out_of_service_body": ("Mohon maaf. Silakan hubungi petugas di meja informasi.",
                            "We are sorry. Please ask the staff at the information desk."),
    "engine_offline_title": ("Server antrian tidak menjawab", "The queue server does not answer"),
    "engine_offline_body": ("Nomor belum dibuat dan tidak ada tiket yang dicetak. Silakan coba lagi, "
                            "atau hubungi petugas.",
                            "No number was made and nothing was printed. Please try again, or ask the staff."),
    "engine_waiting_body": ("Mesin tiket sedang menyambung ke server. Mohon tunggu sebentar atau hubungi petugas.",
                            "The ticket machine is connecting to the server. Please wait a moment or ask the staff."),
    "try_again": ("Coba lagi", "Try again"),
    # ticket paper
    "ticket_number": ("NOMOR ANTRIAN", "QUEUE NUMBER"),
    "ticket_ahead": ("Antrian di depan: {n} orang", "People ahead: {n}"),
    "ticket_wait": ("Perkiraan tunggu: {duration}", "Estimated wait: {duration}"),
    "ticket_qr": ("Pindai untuk status antrian dan survei kepuasan", "Scan for your queue status and our survey"),
    "sample": ("CONTOH - BUKAN TIKET", "SAMPLE - NOT A TICKET"),
}

# Printer problems, said to visitors and published for the admin.
PRINTER_TEXTS: dict[str, tuple[str, str]] = {
    "ok": ("Printer siap", "Printer ready"),
    "paper_low": ("Kertas printer hampir habis", "The printer's paper is running low"),
    "paper_out": ("Kertas printer habis", "The printer is out of paper"),
    "cover_open": ("Tutup printer terbuka", "The printer cover is open"),
    "offline": ("Printer tidak tersambung", "The printer is not connected"),
    "error": ("Printer mengalami gangguan", "The printer has a fault"),
    "unknown": ("Printer tidak melaporkan statusnya", "The printer does not report its status"),
}


def text(key: str, lang: str = "id", **params: object) -> str:
    indonesian, english = TEXTS[key]
    template = english if lang == "en" else indonesian
    return template.format(**params) if params else template


def printer_text(status: str, lang: str = "id") -> str:
    indonesian, english = PRINTER_TEXTS.get(status, PRINTER_TEXTS["error"])
    return english if lang == "en" else indonesian
