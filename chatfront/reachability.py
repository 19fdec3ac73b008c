"""The server's reachability self-test: for each network this machine is on, the
address to give out there, and whether anyone on that network has reached the
room lately (a DISCOVER heard from it, or a member or guest whose address is in
it). A network nobody has reached is where a firewall or a wrong network is
likely: the operator sees it without asking anyone."""
from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from udpcore import format_addr


@dataclass(frozen=True)
class Reach:
    interface: str
    address: str              # what others on that network type: host:port
    heard: float | None       # seconds since someone there was heard, or None: nobody yet


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address in a host or host:port as the server shows it ([v6]:port, v4:port, v4-mapped)."""
    text = host.strip()
    if text.startswith("["):
        text = text[1:text.find("]")] if "]" in text else text[1:]
    elif text.count(":") == 1:
        text = text.split(":")[0]
    try:
        ip = ipaddress.ip_address(text.split("%")[0])
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def reachability(networks: Iterable[tuple[str, str, int]], port: int,
                 looked: Iterable[tuple[str, float]], members: Iterable[tuple[str, float]]) -> list[Reach]:
    """``networks``: (interface, address, prefix length); ``looked``: DISCOVER sources
    with seconds since; ``members``: member addresses (host:port) with seconds since
    last heard. A network's figure is the most recent of either in it."""
    heard: list[tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, float]] = []
    for host, ago in [*looked, *members]:
        if (ip := _ip(host)) is not None:
            heard.append((ip, ago))
    out: list[Reach] = []
    for interface, address, prefix in networks:
        try:
            net = ipaddress.ip_network(f"{address}/{prefix}", strict=False)
        except ValueError:
            continue
        ages = [ago for ip, ago in heard if ip.version == net.version and ip in net]
        out.append(Reach(interface, format_addr((address, port)), min(ages) if ages else None))
    return out
