"""Words of the booking page, the kiosk's check-in and "permintaan tidak terlayani" in the control room.

They belong in the one text table (broker/core/texts.py); the web helper of issue 18 may not edit the
core, so they wait here and broker.protocol.texts adds those the table does not have yet (the core's
own word wins once it is moved there). tests/unit/test_booking_texts.py checks both languages.
"""

from __future__ import annotations

TEXTS: dict[str, tuple[str, str]] = {
    "kendali.turned_away": ("Tidak terlayani", "Turned away"),
    "kendali.live.turned_away": ("Tidak terlayani", "Turned away"),
    "kendali.turned_away.none": ("Belum ada permintaan yang ditolak hari ini", "No request turned away today"),
    "kendali.turned_away.quota": ("kuota habis", "quota used up"),
    "kendali.turned_away.closed": ("layanan tutup", "service closed"),
    "kendali.turned_away.cutoff": ("terlambat", "too late"),
    "kendali.turned_away.limit": ("batas per orang", "per-person limit"),
    "kendali.turned_away.overflow": ("melewati jam tutup", "past closing time"),
    "kendali.turned_away.referral": ("dirujuk ke kantor lain", "referred elsewhere"),
}
