"""The config's version history (broker.site.versions): numbering, no double versions, diffs."""

from __future__ import annotations

from broker.site.versions import ConfigVersions, candidate_path, diff, sha256


def test_versions_are_numbered_kept_and_read_back(tmp_path):
    versions = ConfigVersions(tmp_path)
    assert versions.latest() is None and versions.history() == []
    first = versions.ensure_first("a = 1\n", ts=100.0)
    assert (first.number, first.note) == (1, "awal / initial")
    assert versions.ensure_first("ignored\n") == first  # only when there is no version yet
    second = versions.record("a = 2\n", "admin", "services A", ts=200.0)
    assert second.number == 2
    assert versions.record("a = 2\n", "siti") == second  # the same text again is no new version
    third = versions.record("a = 1\n", "admin", "rollback to 1", ts=300.0)
    assert [v.number for v in versions.history()] == [3, 2, 1]
    got = versions.get(2)
    assert got is not None and (got.text, got.by, got.ts, got.note) == ("a = 2\n", "admin", 200.0, "services A")
    assert got.sha256 == sha256("a = 2\n") and third.sha256 == first.sha256
    assert sorted(p.name for p in (tmp_path / "config-versions").iterdir()) == [
        "0001.json", "0001.toml", "0002.json", "0002.toml", "0003.json", "0003.toml"]  # no temporary files left
    assert versions.get(9) is None


def test_a_version_without_its_metadata_still_reads(tmp_path):
    versions = ConfigVersions(tmp_path)
    versions.record("x = 1\n", "admin")
    (tmp_path / "config-versions" / "0001.json").write_text("not json")
    v = versions.get(1)
    assert v is not None and v.text == "x = 1\n" and v.by == ""


def test_diff_shows_the_changed_lines_only():
    old = "[[services]]\ncode = \"A\"\nquota = 10\nname = \"KTP\"\n"
    new = "[[services]]\ncode = \"A\"\nquota = 40\nname = \"KTP\"\n"
    lines = diff(old, new, "versi 1", "versi 2")
    assert lines[:2] == ["--- versi 1", "+++ versi 2"]
    assert "-quota = 10" in lines and "+quota = 40" in lines
    assert not any(line.startswith(("+", "-")) and "name" in line for line in lines[2:])
    assert diff(old, old) == []


def test_candidate_sits_beside_the_config_file(tmp_path):
    assert candidate_path(tmp_path / "mpp.toml") == tmp_path / ".mpp.toml.baru"


def test_reload_config_is_a_supervisor_command_with_a_sha256():
    from broker.protocol.codec import BadMessage, ReloadConfig, Topics, encode, parse

    topics = Topics("testsite")
    topic = topics.supervisor_request("kendali")
    digest = sha256("x = 1\n")
    command = parse(topics, topic, encode({"request_id": "r1", "action": "reload_config", "sha256": digest,
                                           "by": "admin"}))
    assert command == ReloadConfig(request_id="r1", source="supervisor/kendali", sha256=digest, by="admin")
    for body in ({"sha256": "abc"}, {"sha256": digest.upper()}, {"sha256": digest, "by": 5}, {}):
        try:
            parse(topics, topic, encode({"request_id": "r2", "action": "reload_config"} | body))
        except BadMessage as bad:
            assert bad.reply()["error"]["code"] == "bad_payload" and bad.reply()["request_id"] == "r2"
        else:
            raise AssertionError(f"{body} was taken")
