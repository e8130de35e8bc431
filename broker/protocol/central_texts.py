"""Words of the province's control room (`antrian central web`), Indonesian first.

They belong in the one text table (broker/core/texts.py); like the booking page's words
(broker/protocol/booking_texts.py) they wait here, and broker.protocol.texts adds those the table
does not have yet, so pages look them up with the one `tr` (the core's own word wins once moved there).
"""

from __future__ import annotations

TEXTS: dict[str, tuple[str, str]] = {
    "central.title": ("Ruang Kendali Provinsi", "Province control room"),
    "central.login_title": ("Masuk ke Ruang Kendali Provinsi", "Log in to the province control room"),
    "central.league": ("Peringkat MPP", "League of MPPs"),
    "central.scope.all": ("Semua MPP", "Every MPP"),
    "central.scope.province": ("Provinsi {code}", "Province {code}"),
    "central.scope.region": ("MPP wilayah {code}", "MPP of region {code}"),
    "central.from": ("Dari tanggal", "From"),
    "central.to": ("Sampai tanggal", "To"),
    "central.show": ("Tampilkan", "Show"),
    "central.csv": ("Unduh CSV", "Download CSV"),
    "central.period": ("Periode {first} s.d. {last}", "Period {first} to {last}"),
    "central.bad_date": ("Tanggal '{value}' tidak dikenal: tulis seperti 2026-03-31.",
                         "'{value}' is not a date such as 2026-03-31."),
    "central.bad_range": ("Tanggal akhir sebelum tanggal awal.", "The last day is before the first."),
    "central.too_long": ("Periode paling lama {days} hari.", "A period is at most {days} days."),
    "central.no_sites": ("Belum ada MPP yang mengirim data ke pusat dalam lingkup akun ini.",
                         "No MPP within this account's scope has sent data to the province yet."),
    "central.no_weeks": ("Tidak ada data pada periode ini.", "No figures in this period."),
    "central.col.rank": ("No.", "Rank"),
    "central.col.mpp": ("MPP", "MPP"),
    "central.col.region": ("Kode wilayah", "Region code"),
    "central.col.week": ("Minggu mulai", "Week of"),
    "central.col.agency": ("Instansi", "Agency"),
    "central.col.visitors": ("Pengunjung", "Visitors"),
    "central.col.served": ("Dilayani", "Served"),
    "central.col.no_shows": ("Tidak hadir", "No-shows"),
    "central.col.counter_hours": ("Jam-loket", "Counter-hours"),
    "central.col.per_counter_hour": ("Pengunjung per jam-loket", "Visitors per counter-hour"),
    "central.col.counters": ("Loket berpetugas", "Counters staffed"),
    "central.col.ikm": ("IKM", "IKM"),
    "central.col.grade": ("Mutu", "Grade"),
    "central.col.respondents": ("Responden", "Respondents"),
    "central.col.turned_away": ("Tidak terlayani", "Turned away"),
    "central.col.avg_wait": ("Rata-rata tunggu (menit)", "Average wait (minutes)"),
    "central.sort_by": ("Urutkan menurut", "Sort by"),
    "central.order": ("Urutan", "Order"),
    "central.order.asc": ("terkecil dulu (A-Z)", "smallest first (A-Z)"),
    "central.order.desc": ("terbesar dulu (Z-A)", "largest first (Z-A)"),
    "central.sort": ("Urutkan menurut kolom ini", "Sort by this column"),
    "central.sample_low": ("responden di bawah sampel minimum ({n})", "respondents below the minimum sample ({n})"),
    "central.weeks": ("Per minggu", "Per week"),
    "central.agencies": ("Per instansi", "Per agency"),
    "central.chart_visitors": ("Pengunjung per minggu", "Visitors per week"),
    "central.chart_wait": ("Rata-rata tunggu per minggu (menit)", "Average wait per week (minutes)"),
    "central.back_league": ("Kembali ke peringkat MPP", "Back to the league of MPPs"),
    "central.back_mpp": ("Kembali ke {name}", "Back to {name}"),
    "central.agency_title": ("Instansi {agency} di {name}", "Agency {agency} at {name}"),
    "central.unknown_agency": ("(tanpa instansi)", "(no agency)"),
    "central.staffed_note": (
        "% jam buka terisi: bagian jam buka loket (jadwal tiap instansi, tanpa hari libur dan penutupan) yang "
        "berpetugas, dihitung seperti laporan kehadiran loket di MPP; \"-\" bila MPP belum mengirim jam bukanya. "
        "Jam-loket adalah jumlah jam petugas masuk di loket.",
        "% of opening hours staffed: the share of the counters' opening hours (each agency's schedule, without "
        "holidays and closures) an officer was signed in, counted as the MPP's own counter staffing report counts "
        "it; \"-\" when the MPP has not sent its opening hours. Counter-hours are the hours officers were signed in "
        "at counters."),
    "central.db_down": (
        "Basis data pusat belum dapat dihubungi. Halaman ini akan bisa dibuka lagi begitu basis data siap; "
        "coba muat ulang dalam beberapa saat.",
        "The central database cannot be reached yet. This page opens again as soon as the database is ready; "
        "try reloading in a moment."),
    "central.not_found": ("Halaman ini tidak ada atau di luar lingkup akun Anda.",
                          "This page does not exist or is outside your account's scope."),
    "central.home": ("Peringkat MPP", "League of MPPs"),
    # the site profile (issue 19): opening hours staffed
    "central.col.staffed_share": ("% jam buka terisi", "% of opening hours staffed"),
}
