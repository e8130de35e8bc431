"""Booking ahead, checking in at the kiosk, overflow control and the demand turned away (broker.core.booking)."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_engine import THURSDAY, TUESDAY, Site, wib

from broker.core.booking import CODE_ALPHABET, booking_token
from broker.core.commands import Book, BookingCancel, BookingShow, CheckIn, Tick
from broker.core.engine import Engine
from broker.core.events import EventType as E
from broker.protocol.codec import Topics, normalize_booking_code, parse
from broker.site.config import parse_config
from conftest import SMALL_SITE, examples

# Passports (imigrasi: Tuesday and Thursday only): 6 a day, 4 of them booked ahead in two sessions
BOOKING_SITE = SMALL_SITE.replace('quota = 3\npriority = false', 'quota = 6\npriority = false\nquota_online = 4\n'
                                  'sessions = ["08:00-10:00", "10:00-12:00"]\n'
                                  'referral = "Warga Kec. Sarang: Kantor Imigrasi Pati"')
_ids = itertools.count(1)


def booking_site(now: float | None = None, **rules) -> Site:
    text = BOOKING_SITE
    for key, value in rules.items():
        text = text.replace("[rules]\n", f"[rules]\n{key} = {value}\n")
    site = Site(parse_config(text), wib(TUESDAY, 7) if now is None else now)
    site.engine.view.secret = site.engine.survey_secret = b"test-secret"
    site.run(Tick())
    return site


def book(site: Site, day: str = "2026-03-05", session: str = "08:00-10:00", **kw) -> dict:
    return site.run(Book(request_id=f"b{next(_ids)}", source="booking/web", service=kw.pop("service", "P"), day=day,
                         session=session, **kw)).reply


def check_in(site: Site, code: str, request_id: str | None = None) -> dict:
    return site.run(CheckIn(request_id=request_id or f"c{next(_ids)}", source="kiosk/k1", code=code,
                            kiosk="k1")).reply


def test_a_booking_has_a_typeable_code_a_token_and_its_window():
    site = booking_site()
    reply = book(site, phone="+6281234567890", nik="3317010101010001")
    assert reply["ok"], reply
    booking = reply["booking"]
    assert len(booking["code"]) == 6 and set(booking["code"]) <= set(CODE_ALPHABET)
    assert reply["token"] == booking_token(b"test-secret", booking["code"])
    assert (booking["day"], booking["session"], booking["state"]) == ("2026-03-05", "08:00-10:00", "booked")
    assert (booking["check_in_from"], booking["check_in_until"]) == ("2026-03-05T07:30", "2026-03-05T08:15")
    made = next(e for e in site.last.events if e.type == E.BOOKING_MADE)
    assert "+6281234567890" not in repr(made.data) and "3317010101010001" not in repr(made.data), "only hashes"
    state = site.engine.view.booking_state("P", site.now)
    thursday = next(d for d in state.days if d.day == "2026-03-05")
    assert [(s.session, s.places, s.left) for s in thursday.sessions] == [("08:00-10:00", 2, 1), ("10:00-12:00", 2, 2)]
    assert [d.day for d in state.days][:3] == ["2026-03-03", "2026-03-05", "2026-03-10"], "only open days"


def test_refusals_say_why_and_offer_the_next_open_day_and_count_as_demand_turned_away():
    site = booking_site()
    assert book(site)["ok"] and book(site)["ok"]
    full = book(site)
    assert full["error"]["code"] == "booking_full" and full["reason"] == "quota"
    assert full["next_open"] == "2026-03-10", "the next open day with a place left (Thursday is still open at 10:00?)"
    assert full["error"]["message"].endswith("Masih dapat dipesan pada hari Selasa, 10 Maret"), "the sentence says it too"
    assert "{" not in full["error"]["message_en"]
    closed = book(site, day="2026-03-04")  # a Wednesday: imigrasi is not there
    assert closed["error"]["code"] == "booking_closed" and closed["reason"] == "closed"
    assert closed["referral"]["text"].startswith("Warga Kec. Sarang")
    limit_site = booking_site()
    assert book(limit_site, phone="+6281234567890")["ok"]
    assert book(limit_site, session="10:00-12:00", phone="+6281234567890")["reason"] == "limit"
    counts = site.engine.view.service_state("P", site.now).turned_away
    assert (counts.quota, counts.closed, counts.total) == (1, 1, 2)


def test_check_in_inside_the_window_gives_one_reservation_ticket_and_never_a_second():
    site = booking_site()
    code = book(site)["booking"]["code"]
    site.now = wib(THURSDAY, 7, 0)
    site.run(Tick())
    early = check_in(site, code)
    assert early["error"]["code"] == "check_in_too_early" and early["reason"] == "too_early"
    site.now = wib(THURSDAY, 7, 45)
    first = check_in(site, code)
    assert first["ok"], first
    assert first["ticket"]["reservation"] and first["ticket"]["session"] == "08:00-10:00"
    assert first["booking"]["state"] == "checked_in"
    again = check_in(site, code)
    assert again["error"]["code"] == "booking_checked_in" and again["number"] == first["ticket"]["number"]


def test_no_shows_past_the_cut_off_give_their_places_to_walk_ins():
    site = booking_site(wib(THURSDAY, 7))
    codes = [book(site, session=s)["booking"]["code"] for s in ("08:00-10:00", "08:00-10:00", "10:00-12:00")]
    assert site.engine.view.service_state("P", site.now).walk_in_left == 2, "6 less the 4 online places"
    site.now = wib(THURSDAY, 8, 0)
    assert check_in(site, codes[0])["ok"]
    assert site.issue("P")["ok"] and site.issue("P")["ok"]
    assert site.issue("P")["error"]["code"] == "quota_reached"
    site.now = wib(THURSDAY, 8, 15)  # the first session's cut-off
    site.run(Tick())
    released = next(e for e in site.last.events if e.type == E.BOOKING_RELEASED)
    assert released.data["expired"] == [codes[1]] and released.data["places"] == 1
    late = check_in(site, codes[1])
    assert late["error"]["code"] == "check_in_too_late" and late["reason"] == "cutoff"
    assert site.issue("P")["ok"], "the no-show's place went to a walk-in"
    assert site.issue("P")["error"]["code"] == "quota_reached"
    state = site.engine.view.service_state("P", site.now)
    assert state.issued_today == 4 and state.checked_in_today == 1 and state.turned_away.cutoff == 1


def test_bookings_for_future_days_survive_the_day_rollover_and_a_replay():
    site = booking_site()
    code = book(site)["booking"]["code"]
    site.now = wib(THURSDAY, 7, 50)
    site.run(Tick())
    assert site.engine.hall.bookings.bookings[code].state == "booked"
    assert check_in(site, code)["ok"]


def test_cancel_needs_the_token_and_frees_the_place():
    site = booking_site()
    reply = book(site)
    code, token = reply["booking"]["code"], reply["token"]
    wrong = site.run(BookingCancel(request_id="x1", source="booking/web", code=code, token="nope")).reply
    assert wrong["error"]["code"] == "booking_unknown"
    shown = site.run(BookingShow(request_id="x2", source="booking/web", code=code, token=token))
    assert shown.reply["booking"]["state"] == "booked" and not shown.events
    done = site.run(BookingCancel(request_id="x3", source="booking/web", code=code, token=token)).reply
    assert done["booking"]["state"] == "cancelled"
    thursday = next(d for d in site.engine.view.booking_state("P", site.now).days if d.day == "2026-03-05")
    assert thursday.sessions[0].left == 2


def test_overflow_warns_or_stops_with_the_referral():
    for policy in ("warn", "stop"):
        site = booking_site(wib(TUESDAY, 14, 0), overflow=f'"{policy}"')
        site.counter("4K-10", "open")
        for _ in range(2):
            site.issue("P")
        reply = site.issue("P")  # two ahead at 300 s each: served after 15:00? no: 10 minutes
        assert reply["ok"] and "overflow" not in reply
        site.now = wib(TUESDAY, 14, 55)
        reply = site.issue("P")
        if policy == "warn":
            assert reply["ok"] and reply["overflow"]["code"] == "overflow_warning" and reply["referral"]
        else:
            assert reply["error"]["code"] == "service_overflow" and reply["reason"] == "referral"
            assert site.engine.view.service_state("P", site.now).turned_away.referral == 1


def test_the_codec_reads_typed_and_scanned_codes():
    assert normalize_booking_code("k7xm-4p") == "K7XM4P"
    assert normalize_booking_code("https://mpp.example/booking/K7XM4P") == "K7XM4P"
    assert normalize_booking_code("K7XM40") is None, "0 is not in the alphabet"
    topics = Topics("testsite")
    command = parse(topics, topics.kiosk_request("k1"), b'{"request_id": "a", "action": "check-in", "code": "k7xm4p"}')
    assert isinstance(command, CheckIn) and command.code == "K7XM4P"
    command = parse(topics, topics.booking_request("web"), b'{"request_id": "b", "action": "book", "service": "P", '
                                                          b'"day": "2026-03-05", "session": "08:00-10:00", '
                                                          b'"nik": "3317 0101 0101 0001"}')
    assert isinstance(command, Book) and command.nik == "3317010101010001" and "3317" not in repr(command)


# ---------------------------------------------------------------------- properties

actions = st.lists(st.one_of(
    st.tuples(st.just("book"), st.sampled_from(["2026-03-05", "2026-03-10"]),
              st.sampled_from(["08:00-10:00", "10:00-12:00"]), st.sampled_from(["", "+6281234567890", "+6281311112222"])),
    st.tuples(st.just("walk"), st.none(), st.none(), st.none()),
    st.tuples(st.just("check"), st.integers(0, 20), st.none(), st.none()),
    st.tuples(st.just("cancel"), st.integers(0, 20), st.none(), st.none()),
    st.tuples(st.just("wait"), st.integers(1, 90), st.none(), st.none()),
), max_size=60)


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actions)
def test_online_and_walk_in_never_pass_the_quota_no_booking_is_checked_in_twice_and_replay_equals_live(steps):
    site = booking_site(wib(TUESDAY, 7))
    log = list(site.last.events)
    run = site.run

    def recording(command):
        outcome = run(command)
        log.extend(outcome.events)
        return outcome

    site.run = recording
    bookings: list[tuple[str, str]] = []
    tickets_of: dict[str, set[str]] = {}
    for kind, a, b, c in steps:
        if kind == "book":
            reply = book(site, day=a, session=b, phone=c)
            if reply["ok"]:
                bookings.append((reply["booking"]["code"], reply["token"]))
        elif kind == "walk":
            site.issue("P")
        elif kind == "check" and bookings:
            code = bookings[a % len(bookings)][0]
            reply = check_in(site, code)
            if reply["ok"]:
                tickets_of.setdefault(code, set()).add(reply["ticket"]["id"])
        elif kind == "cancel" and bookings:
            code, token = bookings[a % len(bookings)]
            site.run(BookingCancel(request_id=f"x{next(_ids)}", source="booking/web", code=code, token=token))
        elif kind == "wait":
            site.advance(a * 3600 / 10)
            site.run(Tick())
        hall = site.engine.hall
        assert hall.issued["P"] <= 6, "walk-ins and reservations never pass the quota"
        for taken in hall.bookings.taken.values():
            assert taken <= 2, "a session's online places are never overbooked"
        assert all(len(t) == 1 for t in tickets_of.values()), "a booking is checked in once"
    replayed = Engine(site.engine.config, survey_secret=b"test-secret")
    replayed.restore(log)
    live, again = site.engine, replayed
    assert again.hall.bookings.bookings.keys() == live.hall.bookings.bookings.keys()
    assert {c: b.state for c, b in again.hall.bookings.bookings.items()} == \
        {c: b.state for c, b in live.hall.bookings.bookings.items()}
    assert again.view.service_state("P", site.now) == live.view.service_state("P", site.now)
    assert again.view.booking_state("P", site.now) == live.view.booking_state("P", site.now)


def test_the_config_check_names_broken_booking_settings():
    import pytest

    from broker.site.config import ConfigError

    broken = BOOKING_SITE.replace('sessions = ["08:00-10:00", "10:00-12:00"]', 'sessions = ["08:00-10:0O"]') \
        .replace("quota_online = 4", "quota_online = 9").replace("[rules]\n", '[rules]\noverflow = "maybe"\n')
    with pytest.raises(ConfigError) as caught:
        parse_config(broken)
    text = str(caught.value)
    assert "sessions" in text and "quota_online" in text and "overflow" in text


def test_a_reservation_takes_its_place_by_the_rule():
    orders = {}
    for rule in ("slot", "arrival", "front"):
        site = booking_site(wib(THURSDAY, 7), booking_place=f'"{rule}"')
        code = book(site, session="10:00-12:00")["booking"]["code"]
        site.now = wib(THURSDAY, 9, 50)
        early = [site.number("P") for _ in range(2)]  # before the session started
        site.now = wib(THURSDAY, 10, 5)
        late = site.number("P")  # a walk-in after it started
        reply = check_in(site, code)
        assert reply["ok"], reply
        orders[rule] = site.waiting("P")
        assert orders[rule][:2] == early or rule == "front"
        assert late in orders[rule]
    reserved = "P004"
    assert orders["slot"] == ["P001", "P002", reserved, "P003"], "ahead of the walk-in who came after 10:00"
    assert orders["arrival"] == ["P001", "P002", "P003", reserved]
    assert orders["front"] == [reserved, "P001", "P002", "P003"]
