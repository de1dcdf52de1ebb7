"""Fields are checked before any socket call, with a reason a student can act on."""

from __future__ import annotations

import socket

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sockviz.core import Endpoint, InputError, check_host, parse_payload, parse_port, resolve, show_bytes


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "enter a port"),
        ("abc", "not a whole number"),
        ("-1", "not a whole number"),
        ("70000", "too large"),
        ("0", "kernel pick"),
        ("12 354", "not a whole number"),
    ],
)
def test_bad_ports_are_refused_with_a_reason(text, reason):
    with pytest.raises(InputError) as refused:
        parse_port(text)
    assert refused.value.field == "port" and reason in refused.value.reason


@pytest.mark.parametrize(("text", "port"), [("12354", 12354), (" 1 ", 1), ("65535", 65535)])
def test_good_ports(text, port):
    assert parse_port(text) == port


@pytest.mark.parametrize(
    ("text", "family", "reason"),
    [
        ("", socket.AF_INET, "enter a host"),
        ("127.0.0.1", socket.AF_INET6, "IPv4 address; in IPv6 mode use ::1"),
        ("::1", socket.AF_INET, "IPv6 address; in IPv4 mode"),
        ("not a host!", socket.AF_INET, "neither an IP address nor a host name"),
        ("999.1.1.1", socket.AF_INET, None),
    ],
)
def test_bad_hosts_are_refused(text, family, reason):
    if reason is None:
        assert check_host(text, family) is None  # a name to look up: it looks like one
        with pytest.raises(InputError):
            resolve(text, family)
        return
    with pytest.raises(InputError) as refused:
        check_host(text, family)
    assert reason in refused.value.reason


def test_numeric_hosts_pass_without_a_lookup():
    assert check_host(" 127.0.0.1 ", socket.AF_INET) == "127.0.0.1"
    assert check_host("::1", socket.AF_INET6) == "::1"


def test_localhost_resolves_for_its_family():
    assert resolve("localhost", socket.AF_INET) == "127.0.0.1"


def test_a_host_that_does_not_resolve():
    with pytest.raises(InputError) as refused:
        resolve("no-such-host.invalid", socket.AF_INET)
    assert "does not resolve" in refused.value.reason


def test_all_interfaces_is_noticed():
    assert Endpoint(socket.AF_INET, "0.0.0.0", 1).all_interfaces
    assert Endpoint(socket.AF_INET6, "::", 1).all_interfaces
    assert not Endpoint(socket.AF_INET, "127.0.0.1", 1).all_interfaces


@pytest.mark.parametrize(
    ("typed", "sent"),
    [
        ("Hello", b"Hello"),
        ("a\\nb", b"a\nb"),
        ("\\x00\\xff", b"\x00\xff"),
        ("back\\\\slash", b"back\\slash"),
        ("héllo", "héllo".encode()),
        ("[bold]x[/bold]", b"[bold]x[/bold]"),
    ],
)
def test_payload_escapes(typed, sent):
    assert parse_payload(typed) == sent


@pytest.mark.parametrize(
    ("typed", "reason"), [("\\x4", "not a byte"), ("\\q", "not an escape"), ("end\\", "lone backslash")]
)
def test_bad_payload_escapes_are_refused(typed, reason):
    with pytest.raises(InputError) as refused:
        parse_payload(typed)
    assert reason in refused.value.reason


@given(st.binary(max_size=300))
def test_peer_bytes_are_shown_without_control_characters(data):
    shown = show_bytes(data)
    assert all(ch.isprintable() for ch in shown)
    assert "\x1b" not in shown


@given(st.binary(max_size=200))
def test_typed_escapes_round_trip_with_the_preview(data):
    """What the log shows of some bytes, typed back in (without the b'' quotes), sends the same bytes."""
    typed = "".join(f"\\x{byte:02x}" for byte in data)
    assert parse_payload(typed) == data
