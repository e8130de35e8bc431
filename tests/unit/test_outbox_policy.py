"""The outbox's pure rules (broker/server/outbox.py): which message is superseded, what becomes of one found
in flight after a crash, which channel may send a message again, and how Gammu's outbox files are read."""

from __future__ import annotations

import pytest

from broker.server.outbox import (
    PRESETS,
    STATUSES,
    GammuChannel,
    Message,
    NotifyConfigError,
    Queued,
    SendError,
    WebhookChannel,
    in_doubt,
    load_channels,
    smsd_file_text,
    smsd_files_folders,
    summary,
    superseded,
)

T1, T2 = "20261203-A001", "20261203-A002"


def test_a_later_message_of_the_same_ticket_supersedes_an_earlier_one():
    near, called, survey = Queued(f"{T1}:near", T1, 10), Queued(f"{T1}:called:1", T1, 14), Queued(f"{T1}:survey", T1, 20)
    queued = [near, called, survey]
    assert superseded(near, queued)  # "tinggal 2 orang lagi" after the call
    assert superseded(called, queued)  # an old call after the survey link
    assert not superseded(survey, queued)
    assert not superseded(called, [near, called])


def test_another_tickets_messages_supersede_nothing():
    near = Queued(f"{T1}:near", T1, 10)
    assert not superseded(near, [near, Queued(f"{T2}:called:1", T2, 30), Queued(f"{T2}:near", T2, 11)])
    assert not superseded(near, [])
    orphan = Queued("x", None, 1)  # a row without a ticket is never matched to another
    assert not superseded(orphan, [orphan, Queued("y", None, 5)])


def test_a_message_recalled_to_another_counter_supersedes_the_first_call():
    first, second = Queued(f"{T1}:called:1", T1, 14), Queued(f"{T1}:called:3", T1, 40)
    assert superseded(first, [first, second]) and not superseded(second, [first, second])


@pytest.mark.parametrize("idempotent, is_superseded, handed_over, has_phone, expected", [
    # the channel cannot tell: only a gateway that drops a repeated id gets it again
    (True, False, None, True, "pending"),
    (False, False, None, True, "unsure"),
    # the channel can tell
    (False, False, True, True, "sent"),
    (False, False, False, True, "pending"),
    (True, False, True, True, "sent"),
    # superseded: never sent late, whatever the channel; taken is still taken
    (True, True, None, True, "superseded"),
    (False, True, None, True, "superseded"),
    (False, True, False, True, "superseded"),
    (False, True, True, True, "sent"),
    # the number was deleted meanwhile (a new day, a withdrawn consent): never sent
    (True, False, None, False, "unsure"),
    (False, False, False, False, "expired"),
    (True, False, True, False, "sent"),
])
def test_a_message_in_doubt(idempotent, is_superseded, handed_over, has_phone, expected):
    assert in_doubt(idempotent=idempotent, superseded=is_superseded, handed_over=handed_over,
                    has_phone=has_phone) == expected


def test_no_message_in_doubt_goes_twice_through_a_channel_that_cannot_dedupe():
    """Never-twice for every channel: a non-idempotent channel that cannot look never gets `pending` back."""
    for is_superseded in (False, True):
        for has_phone in (False, True):
            assert in_doubt(idempotent=False, superseded=is_superseded, handed_over=None,
                            has_phone=has_phone) != "pending"


def _channel(preset: str, **override) -> WebhookChannel:
    conf = PRESETS[preset] | override
    return WebhookChannel(url=conf["url"] or "http://127.0.0.1:9/send", headers=dict(conf["headers"]), body=conf["body"],
                          content_type=conf["content_type"], dedupes=override.get("dedupes"))


def test_which_channels_may_send_a_message_again():
    assert _channel("webhook").idempotent  # Idempotency-Key: {id} and "id" in the body
    assert not _channel("fonnte").idempotent and not _channel("wablas").idempotent
    assert _channel("webhook", headers={}).idempotent  # the body still carries the id
    assert not _channel("webhook", headers={}, body='{"to": "{phone}", "text": "{text}"}').idempotent
    assert _channel("webhook", headers={}, body="", url="http://127.0.0.1:9/send?ref={id}").idempotent
    assert not _channel("webhook", dedupes=False).idempotent  # notify.toml's `idempotent = false` wins
    assert _channel("fonnte", dedupes=True).idempotent
    assert not GammuChannel(config="/etc/gammu-smsdrc").idempotent


def test_notify_toml_says_idempotent(tmp_path):
    path = tmp_path / "notify.toml"
    path.write_text('[whatsapp]\npreset = "webhook"\nurl = "http://127.0.0.1:9/"\nidempotent = false\n')
    assert not load_channels(path)["whatsapp"].idempotent
    path.write_text('[whatsapp]\npreset = "fonnte"\nurl = "http://127.0.0.1:9/"\nidempotent = true\n')
    assert load_channels(path)["whatsapp"].idempotent
    path.write_text('[whatsapp]\npreset = "fonnte"\nurl = "http://127.0.0.1:9/"\nidempotent = "ya"\n')
    with pytest.raises(NotifyConfigError, match="idempotent must be true or false"):
        load_channels(path)


def test_gammu_files_backend_folders(tmp_path):
    rc = tmp_path / "smsdrc"
    rc.write_text("[gammu]\ndevice = /dev/ttyUSB0\n[smsd]\nService = FILES\nOutboxPath = /var/spool/gammu/outbox/\n"
                  "sentsmspath = /var/spool/gammu/sent/\nerrorsmspath = /var/spool/gammu/error/\n")
    assert [str(p) for p in smsd_files_folders(rc)] == ["/var/spool/gammu/outbox", "/var/spool/gammu/sent",
                                                        "/var/spool/gammu/error"]
    rc.write_text("[smsd]\nservice = files\noutboxpath = /spool/out/\n")  # sent and error default to it
    assert [str(p) for p in smsd_files_folders(rc)] == ["/spool/out"]
    rc.write_text("[smsd]\nservice = sql\ndriver = native_pgsql\n")  # no folders to look in
    assert smsd_files_folders(rc) is None
    assert smsd_files_folders(tmp_path / "missing") is None
    rc.write_text("not an ini file [")
    assert smsd_files_folders(rc) is None


def test_gammu_outbox_file_text():
    text = "MPP Uji: nomor A001 dipanggil, silakan ke Loket 1 — terima kasih"
    hexed = text.encode("utf-16-be").hex().upper()
    detail = ("; This file format was designed for Gammu\n[SMSBackup000]\nNumber = \"+6281234567890\"\n"
              f"Text00 = {hexed[:40]}\nText01 = {hexed[40:]}\nCoding = Unicode_No_Compression\n")
    assert smsd_file_text(detail.encode("ascii")) == text
    two_parts = (f"[SMSBackup000]\nUDH = 0500031C0201\nText00 = {hexed[:60]}\n"
                 f"[SMSBackup001]\nUDH = 0500031C0202\nText00 = {hexed[60:]}\n")
    assert smsd_file_text(two_parts.encode("ascii")) == text
    assert smsd_file_text(b"\xfe\xff" + text.encode("utf-16-be")) == text  # outboxformat = unicode
    assert smsd_file_text(text.encode("utf-8")) == text  # outboxformat = standard
    assert smsd_file_text(b"[SMSBackup000]\nText00 = ZZZZ\n") == ""  # damaged: matches nothing


def test_summary_names_every_status_in_both_languages():
    counts = {"sent": 5, "unsure": 1, "superseded": 2, "pending": 0}
    assert summary(counts, "id") == ("5 terkirim, 1 mungkin sudah terkirim (tidak dikirim ulang), "
                                     "2 tidak dikirim, sudah ada kabar yang lebih baru")
    assert summary(counts, "en") == "5 sent, 1 maybe sent (not sent again), 2 not sent, a newer message replaced it"
    assert all(summary({status: 1}, "id") and summary({status: 1}, "en") for status in STATUSES)
    assert summary({}) == ""


def test_an_unusable_gateway_url_is_a_send_error_not_a_dead_sender():
    with pytest.raises(SendError, match="url cannot be used"):
        WebhookChannel(url="api.fonnte.com/send", body="x").send(Message("t:near", "whatsapp", "+6281234567890", "t", 0))
