"""Parsing and showing addresses: ``host``, ``host:port``, ``[v6]:port``. Pure."""
from __future__ import annotations

from .cli import DEFAULT_PORT


class AddressError(ValueError):
    """An address the user typed that cannot be used; str() is one sentence."""


def parse_server(text: str, default_port: int = DEFAULT_PORT) -> tuple[str, int]:
    """Split what the user typed into (host, port)."""
    s = text.strip()
    if not s:
        raise AddressError("Type the server's address, for example 192.168.1.20 or chat.local:5002.")
    host, port_text = s, ""
    if s.startswith("["):
        end = s.find("]")
        if end < 0:
            raise AddressError(f"'{s}' is missing the closing ']' of an IPv6 address.")
        host, rest = s[1:end], s[end + 1:]
        if rest:
            if not rest.startswith(":"):
                raise AddressError(f"'{s}' is not an address: expected [IPv6]:PORT.")
            port_text = rest[1:]
    elif s.count(":") == 1:
        host, port_text = s.split(":")
    # more than one ':' without brackets: a bare IPv6 address, default port
    if not host:
        raise AddressError(f"'{s}' has no host name or address.")
    port = default_port
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise AddressError(f"'{port_text}' is not a port number (1-65535).")
        port = int(port_text)
    return host, port


def format_addr(addr: tuple) -> str:
    """``127.0.0.1:5002`` or ``[::1]:5002``; IPv4-mapped IPv6 shows as IPv4."""
    host, port = addr[0], addr[1]
    if host.startswith("::ffff:") and "." in host:
        host = host[7:]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
