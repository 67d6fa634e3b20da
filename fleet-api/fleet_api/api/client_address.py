"""Who is calling, as far as it can be known: the address login throttling counts against.

Without configured proxies it is the connection's peer, and ``X-Forwarded-For`` means nothing (anyone can send
one). When the peer is a trusted proxy (``TRUSTED_PROXIES``), the header is read from the right, since each proxy
appends the address it saw: hops written by trusted proxies are skipped and the first address that is not a
trusted proxy is the client. Whatever stands left of it was written by the client itself and is ignored. A hop
that is not an address ends the walk at the proxy that passed it on.
"""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

Network = IPv4Network | IPv6Network


def _parse(value: str) -> IPv4Address | IPv6Address | None:
    try:
        address = ip_address(value.strip())
    except ValueError:
        return None
    # An IPv4 client reached over an IPv6 socket shows as ::ffff:a.b.c.d; it is the same client.
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: IPv4Address | IPv6Address, proxies: Sequence[Network]) -> bool:
    return any(address.version == network.version and address in network for network in proxies)


def client_address(peer: str | None, forwarded_for: str | None, proxies: Sequence[Network]) -> str:
    current = _parse(peer or "")
    if current is None:
        return peer or "unknown"
    if not proxies or not _trusted(current, proxies) or not forwarded_for:
        return str(current)
    for hop in reversed(forwarded_for.split(",")):
        address = _parse(hop)
        if address is None:
            break
        current = address
        if not _trusted(address, proxies):
            break
    return str(current)
