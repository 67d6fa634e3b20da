"""The client address login throttling counts against: X-Forwarded-For believed only from configured proxies."""

from __future__ import annotations

from ipaddress import IPv4Address, ip_address, ip_network

from fleet_api.api.client_address import client_address
from hypothesis import given
from hypothesis import strategies as st

PROXIES = (ip_network("10.0.0.0/8"), ip_network("fd00::/8"))
addresses = st.ip_addresses().map(str)
untrusted = st.ip_addresses(v=4, network="203.0.113.0/24").map(str) | st.ip_addresses(v=6, network="2001:db8::/32").map(
    str
)
proxies = st.ip_addresses(v=4, network="10.0.0.0/8").map(str) | st.ip_addresses(v=6, network="fd00::/8").map(str)
junk = st.text(max_size=40)


def test_examples() -> None:
    assert client_address("203.0.113.7", "1.2.3.4", ()) == "203.0.113.7"
    assert client_address("203.0.113.7", "1.2.3.4", PROXIES) == "203.0.113.7"  # the peer is no proxy of ours
    assert client_address("10.0.0.2", "1.2.3.4", PROXIES) == "1.2.3.4"
    assert client_address("10.0.0.2", "6.6.6.6, 1.2.3.4, 10.9.9.9", PROXIES) == "1.2.3.4"
    assert client_address("10.0.0.2", "10.1.1.1, 10.9.9.9", PROXIES) == "10.1.1.1"  # every hop a proxy
    assert client_address("10.0.0.2", "1.2.3.4, not-an-address", PROXIES) == "10.0.0.2"
    assert client_address("10.0.0.2", None, PROXIES) == "10.0.0.2"
    assert client_address("::ffff:203.0.113.7", None, ()) == "203.0.113.7"
    assert client_address(None, "1.2.3.4", PROXIES) == "unknown"


@given(peer=addresses, header=junk)
def test_without_proxies_the_header_never_matters(peer, header) -> None:
    assert ip_address(client_address(peer, header, ())) == _unmapped(peer)


@given(peer=untrusted, header=junk)
def test_a_peer_that_is_no_proxy_is_the_client_whatever_it_sends(peer, header) -> None:
    assert client_address(peer, header, PROXIES) == str(ip_address(peer))


@given(
    forged=st.lists(junk, max_size=5),
    client=untrusted,
    chain=st.lists(proxies, max_size=4),
    peer=proxies,
)
def test_what_the_client_writes_left_of_its_own_address_is_ignored(forged, client, chain, peer) -> None:
    """Proxies append what they saw; everything left of the client's address came from the client itself."""
    header = ", ".join([*forged, client, *chain])
    assert client_address(peer, header, PROXIES) == str(ip_address(client))


@given(peer=proxies, header=junk)
def test_the_answer_is_always_an_address_seen_on_the_way(peer, header) -> None:
    found = client_address(peer, header, PROXIES)
    hops = {str(ip_address(peer))} | {str(_unmapped(h)) for h in header.split(",") if _parses(h)}
    assert found in hops


def _parses(value: str) -> bool:
    try:
        ip_address(value.strip())
    except ValueError:
        return False
    return True


def _unmapped(value: str):
    address = ip_address(value.strip())
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped if isinstance(mapped, IPv4Address) else address
