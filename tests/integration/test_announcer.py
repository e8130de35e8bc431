"""The announcer with real parts: the engine on a real broker, espeak-ng / pyttsx3 speech, WAV files, pygame audio."""

from __future__ import annotations

import json
import logging
import time
import uuid
import wave

import pytest

from broker.mqtt.client import EngineClient
from broker.mqtt.connection import Connection
from broker.protocol.codec import Topics, encode
from broker.protocol.state import CallsState, decode
from conftest import OUTPUT, antrian_cli
from display.screens.calls import Call, CallTracker, call_from_event, calls_from_state
from display.voice.announcer import Announcer
from display.voice.chime import CHIME_PATH, synthesize
from display.voice.playback import PygamePlayer, SilentPlayer
from display.voice.service import AnnounceService
from display.voice.speech import EspeakSynthesizer, Pyttsx3Synthesizer, SpeechError, make_synthesizer
from display.voice.spoken import Language, SpeechStyle
from display.voice.wav import Clip, read_wav, rms, voiced_seconds

SITE = "testsite"
PHRASE = "Nomor antrian A nol nol satu, silakan menuju loket empat ka sepuluh"


def wait_until(check, timeout: float = 15.0, step: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(step)
    return check()


def assert_speech(clip: Clip, min_voiced: float = 2.0) -> None:
    assert clip.rate == 22050
    assert voiced_seconds(clip) >= min_voiced, "the WAV is (nearly) silent"
    assert rms(clip) > 300


# ---------------------------------------------------------------------- sounds


def test_the_chime_in_assets_is_the_one_the_script_makes():
    committed = read_wav(CHIME_PATH)
    made = synthesize()
    assert committed.samples == made.samples, "assets/chime.wav differs from `python -m display.voice.chime`"
    with wave.open(str(CHIME_PATH)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 22050)
    assert 1.5 <= committed.duration <= 3.5
    assert voiced_seconds(committed) >= 1.0
    assert max(abs(s) for s in committed.samples) < 32000, "the chime clips"


def test_espeak_ng_speaks_indonesian_into_a_wav():
    clip = EspeakSynthesizer().synthesize(PHRASE, Language.INDONESIAN)
    assert 3.0 <= clip.duration <= 12.0
    assert_speech(clip, 2.5)
    longer = EspeakSynthesizer().synthesize(PHRASE + ", Dinas Kependudukan dan Pencatatan Sipil", Language.INDONESIAN)
    assert longer.duration > clip.duration + 1.0, "the agency name is not spoken"


def test_pyttsx3_speaks_indonesian_into_a_wav():
    clip = Pyttsx3Synthesizer().synthesize(PHRASE, Language.INDONESIAN)
    assert_speech(clip, 2.5)


def test_a_missing_voice_or_program_is_a_speech_error():
    with pytest.raises(SpeechError, match="voice"):
        EspeakSynthesizer(voices={Language.INDONESIAN: "zz"}).synthesize(PHRASE, Language.INDONESIAN)
    with pytest.raises(SpeechError, match="not installed"):
        EspeakSynthesizer(binary="/nonexistent/espeak-ng").synthesize(PHRASE, Language.INDONESIAN)
    with pytest.raises(SpeechError):  # auto falls back to pyttsx3, which has no such voice either
        make_synthesizer("auto", espeak_binary="/nonexistent/espeak-ng", voice="zz").synthesize(
            PHRASE, Language.INDONESIAN)
    # ...but a broken espeak-ng binary alone does not silence the hall: pyttsx3 takes over
    assert_speech(make_synthesizer("auto", espeak_binary="/nonexistent/espeak-ng").synthesize(
        PHRASE, Language.INDONESIAN))


def test_antrian_say_prints_the_phrase_and_writes_the_wav():
    target = OUTPUT / "say-A001-4K-10.wav"
    target.unlink(missing_ok=True)
    result = antrian_cli("say", "A001", "4K-10", "--wav", str(target))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == PHRASE
    clip = read_wav(target)
    chime = read_wav(CHIME_PATH)
    assert clip.samples[:len(chime.samples)] == chime.samples, "the chime comes first"
    assert_speech(Clip(clip.rate, clip.samples[len(chime.samples):]), 2.5)

    english = antrian_cli("say", "b123", "3", "--mode", "words", "--english", "--wav", str(OUTPUT / "say-en.wav"))
    assert english.stdout.splitlines() == ["Nomor antrian B seratus dua puluh tiga, silakan menuju loket tiga",
                                           "Number B one hundred twenty-three, please go to counter three"]
    assert read_wav(OUTPUT / "say-en.wav").duration > clip.duration + 2.0

    broken = antrian_cli("say", "A001", "3", "--engine", "espeak-ng", "--voice", "zz", "--wav",
                         str(OUTPUT / "say-broken.wav"))
    assert broken.returncode == 1 and "speech failed" in broken.stderr
    assert read_wav(OUTPUT / "say-broken.wav").samples == chime.samples, "the chime is still there"


# ---------------------------------------------------------------------- the queue


def make_call(seq: int, number: str, counter: str = "1", recall: bool = False) -> Call:
    return Call(seq=seq, ts=time.time(), ticket=f"20260101-{number}", number=number, counter=counter,
                agency="dukcapil", service=number[0], recall=recall)


def test_calls_play_one_after_the_other_through_real_audio(tmp_path):
    """pygame's mixer (SDL dummy audio here): each clip plays to its end before the next one starts."""
    short_chime = Clip(22050, synthesize().samples[:22050 // 3])
    announcer = Announcer(EspeakSynthesizer(speed=260), PygamePlayer(), short_chime, pause_s=0.2).start()
    results = []
    announcer.on_result = results.append
    for seq, number in enumerate(["A1", "B2"], 1):
        announcer.submit(make_call(seq, number))
    assert announcer.wait_idle(30)
    announcer.stop()
    assert [r.call.number for r in results] == ["A1", "B2"]
    first, second = results
    assert first.played_until <= second.played_from, "two calls overlapped"
    for r in results:
        assert r.spoken and r.chimed and r.error is None
        assert r.played_until - r.played_from >= r.duration_s * 0.9, "a call was cut short"


def retained_calls(calls: list) -> tuple:
    """A `state/calls` payload as the mirror holds it (broker.protocol.state.CallsState)."""
    return decode(CallsState, {"calls": calls}).calls


def test_tracker_lets_each_call_through_once():
    tracker = CallTracker()
    T = Topics(SITE)
    topic = T.event("ticket_called")
    payload = encode({"type": "ticket_called", "ts": time.time(), "seq": 7, "ticket": "20260101-A001",
                      "number": "A001", "counter": "1", "agency": "dukcapil"})
    call = call_from_event(T, topic, payload)
    assert call is not None and tracker.from_event(call) and not tracker.from_event(call_from_event(T, topic, payload))
    recall = call_from_event(T, T.event("ticket_recalled"), payload.replace(b'"seq":7', b'"seq":8')
                             .replace(b"ticket_called", b"ticket_recalled"))
    assert recall.recall and tracker.from_event(recall), "a recall is a new call"
    for bad in (b"", b"{", b"[]", b'{"seq": "x"}', b'{"number": null}'):
        assert call_from_event(T, topic, bad) is None
    assert call_from_event(T, T.event("ticket_issued"), payload) is None
    assert call_from_event(T, Topics("othersite").event("ticket_called"), payload) is None, "another site's call"

    # the retained list at start-up is history, never spoken
    old = calls_from_state(retained_calls([{"seq": 1, "ts": time.time() - 5, "ticket": "t1", "number": "A000",
                                            "counter": "1"}]))
    fresh = CallTracker()
    assert fresh.from_state(old, time.time()) == []
    # after a reconnect, a recent call no event brought is caught up; an old one is not
    missed = calls_from_state(retained_calls([
        {"seq": 3, "ts": time.time() - 1, "ticket": "t3", "number": "A003", "counter": "2"},
        {"seq": 2, "ts": time.time() - 3600, "ticket": "t2", "number": "A002", "counter": "1"},
        {"seq": 1, "ts": time.time() - 5, "ticket": "t1", "number": "A000", "counter": "1"},
        {"seq": "x", "number": "A009"}, {"seq": 9, "ts": 1.0, "number": None, "counter": "1"},
    ]))
    assert [c.number for c in fresh.from_state(missed, time.time())] == ["A003"]
    assert fresh.from_state(missed, time.time()) == []


class Presence:
    """Listens to the announcer's retained presence topic."""

    def __init__(self, url: str):
        self.last: dict | None = None
        self.connection = Connection(url, "test-presence", subscriptions=[Topics(SITE).presence("announcer", "+")],
                                     on_message=self._got).start(wait=5)

    def _got(self, topic: str, payload: bytes, retained: bool) -> None:
        self.last = json.loads(payload)


def burst(url: str, numbers: list[str], counters: tuple[str, ...] = ("1", "2")) -> None:
    """Publish every call command at once, without waiting for replies: the engine takes them in one batch."""
    conn = Connection(url, "test-burst").start(wait=5)
    topics = Topics(SITE)
    for i, number in enumerate(numbers):
        counter = counters[i % len(counters)]
        conn.publish(topics.counter_command(counter),
                     encode({"request_id": uuid.uuid4().hex, "action": "call", "number": number}))
    time.sleep(0.2)
    conn.stop()


@pytest.fixture
def issued(engine_embedded):
    """20 waiting tickets of service A, and a client acting as counter officers."""
    _, url = engine_embedded
    client = EngineClient(url, SITE).start()
    numbers = [client.issue("k1", "A")["ticket"]["number"] for _ in range(20)]
    yield url, client, numbers
    client.stop()


def test_a_burst_of_20_calls_is_all_spoken_in_order_and_a_recall_again(issued, tmp_path):
    url, client, numbers = issued
    wav_dir = OUTPUT / "burst"
    for old in wav_dir.glob("*.wav"):
        old.unlink()
    announcer = Announcer(make_synthesizer(), SilentPlayer(), read_wav(CHIME_PATH), SpeechStyle(), wav_dir=wav_dir,
                          pause_s=0)
    service = AnnounceService(url, SITE, announcer, device="test").start(wait=5)
    presence = Presence(url)
    try:
        assert wait_until(lambda: service.mirror.complete())
        burst(url, numbers)
        assert wait_until(lambda: service.announced >= 20, 60), f"only {service.announced} of 20 announced"
        assert client.counter("1", "recall")["ok"]
        assert wait_until(lambda: service.announced >= 21, 20)
        time.sleep(0.5)  # a late duplicate would show up now
        assert wait_until(lambda: presence.last and presence.last.get("announced") == 21), presence.last
        assert presence.last["online"] is True and presence.last["failures"] == 0
    finally:
        service.stop()
    files = sorted(p.name for p in wav_dir.glob("*.wav"))
    assert len(files) == 21, files
    spoken = [name.split("-")[1] for name in files]
    assert spoken[:20] == numbers, "calls were not spoken in the order they were made"
    assert files[20].startswith("00021-A019-ulang-1"), "the recall was not spoken again"
    chime = read_wav(CHIME_PATH)
    for name in files:
        clip = read_wav(wav_dir / name)
        assert clip.duration > chime.duration + 3.0, name
        assert_speech(Clip(clip.rate, clip.samples[len(chime.samples):]), 2.5)
    assert wait_until(lambda: presence.last == {"online": False}), presence.last
    presence.connection.stop()


def test_when_speech_fails_the_chime_still_plays_and_the_failure_is_reported(issued, caplog):
    url, client, numbers = issued
    wav_dir = OUTPUT / "speech-failure"
    for old in wav_dir.glob("*.wav"):
        old.unlink()
    broken = EspeakSynthesizer(voices={Language.INDONESIAN: "zz"})  # a voice that is not installed
    played: list[Clip] = []

    class RecordingPlayer(SilentPlayer):
        def play(self, clip: Clip) -> None:
            played.append(clip)

    chime = read_wav(CHIME_PATH)
    announcer = Announcer(broken, RecordingPlayer(), chime, wav_dir=wav_dir)
    service = AnnounceService(url, SITE, announcer, device="broken").start(wait=5)
    presence = Presence(url)
    try:
        assert wait_until(lambda: service.mirror.complete())
        with caplog.at_level(logging.ERROR, logger="antrian.announcer"):
            assert client.counter("5", "next")["ok"] and client.counter("1", "call", number=numbers[0])["ok"]
            assert wait_until(lambda: presence.last and presence.last.get("announced") == 1)
        reported = presence.last
    finally:
        service.stop()
    assert reported["speech"] == "failed"
    assert reported["failures"] == 1 and "voice" in reported["last_error"]
    assert reported["last_call"]["number"] == numbers[0]
    assert [c.samples for c in played] == [chime.samples], "the chime did not play alone"
    assert [read_wav(p).samples for p in wav_dir.glob("*.wav")] == [chime.samples]
    assert any("speech failed" in r.getMessage() for r in caplog.records)
    presence.connection.stop()
