"""Parsing and showing addresses: ``host``, ``host:port``, ``[v6]:port``. Pure."""
from __future__ import annotations

from .errors import AddressError, AddressProblem
from .wire import DEFAULT_PORT


def parse_server(text: str, default_port: int = DEFAULT_PORT) -> tuple[str, int]:
    """Split what the user typed into (host, port); AddressError if it cannot be."""
    s = text.strip()
    if not s:
        raise AddressError(s, AddressProblem.EMPTY)
    host, port_text = s, ""
    if s.startswith("["):
        end = s.find("]")
        if end < 0:
            raise AddressError(s, AddressProblem.UNCLOSED_BRACKET)
        host, rest = s[1:end], s[end + 1:]
        if rest:
            if not rest.startswith(":"):
                raise AddressError(s, AddressProblem.AFTER_BRACKET)
            port_text = rest[1:]
    elif s.count(":") == 1:
        host, port_text = s.split(":")
    # more than one ':' without brackets: a bare IPv6 address, default port
    if not host:
        raise AddressError(s, AddressProblem.NO_HOST)
    if host and all(c.isdigit() or c == "." for c in host):
        host = check_ipv4(host)
    port = default_port
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise AddressError(port_text, AddressProblem.BAD_PORT)
        port = int(port_text)
    return host, port


def check_ipv4(host: str) -> str:
    """``host`` made only of digits and dots must be four numbers 0-255: the
    system's resolver would take ``192.168.1`` as 192.168.0.1 and ``10.1`` as
    10.0.0.1 (inet_aton's old shorthands), a typo that quietly reaches the wrong
    machine. Returns it without leading zeros (which inet_aton reads as octal)."""
    parts = host.split(".")
    if len(parts) != 4 or not all(p.isascii() and p.isdigit() for p in parts):
        raise AddressError(host, AddressProblem.IPV4_PARTS)
    if any(int(p) > 255 for p in parts):
        raise AddressError(host, AddressProblem.IPV4_NUMBER)
    return ".".join(str(int(p)) for p in parts)


def format_addr(addr: tuple) -> str:
    """``127.0.0.1:5002`` or ``[::1]:5002``; IPv4-mapped IPv6 shows as IPv4."""
    host, port = addr[0], addr[1]
    if host.startswith("::ffff:") and "." in host:
        host = host[7:]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
