"""This machine's addresses that other hosts on the LAN can use."""
from __future__ import annotations

import socket


def local_addresses() -> list[str]:
    """This machine's addresses other hosts can use (no loopback; IPv4 link-local
    169.254 only when there is nothing else; no IPv6 link-local, which needs a scope).

    Three ways, merged: the source address of the default route (connecting a
    UDP socket sends nothing; 192.0.2.1 and 2001:db8::1 are documentation
    addresses, never contacted), every interface's address where the system
    lists them (Linux), and what the host name resolves to (Windows, macOS).
    """
    found: list[str] = []
    for family, probe in ((socket.AF_INET, "192.0.2.1"), (socket.AF_INET6, "2001:db8::1")):
        try:
            with socket.socket(family, socket.SOCK_DGRAM) as s:
                s.connect((probe, 9))
                found.append(s.getsockname()[0])
        except OSError:
            pass
    found += _linux_interface_addresses()
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, type=socket.SOCK_DGRAM):
            found.append(str(info[4][0]))
    except (OSError, UnicodeError):
        pass
    out: list[str] = []
    link_local: list[str] = []
    for a in found:
        a = a.split("%")[0]
        if a in out or a in link_local or a.startswith(("127.", "fe80:")) or a in ("::1", "::", "0.0.0.0"):
            continue
        (link_local if a.startswith("169.254.") else out).append(a)
    # A network with no DHCP server (two laptops on a cable, an ad-hoc switch) gives
    # only self-assigned 169.254 addresses: they are what others can use then.
    return out or link_local


def _linux_interface_addresses() -> list[str]:
    out: list[str] = []
    try:
        import fcntl
        import struct
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for _, name in socket.if_nameindex():
                try:
                    req = struct.pack("256s", name.encode()[:15])
                    res = fcntl.ioctl(s.fileno(), 0x8915, req)      # SIOCGIFADDR
                    out.append(socket.inet_ntoa(res[20:24]))
                except OSError:
                    pass
        with open("/proc/net/if_inet6") as f:
            for line in f:
                raw = bytes.fromhex(line.split()[0])
                out.append(socket.inet_ntop(socket.AF_INET6, raw))
    except (ImportError, OSError, AttributeError, ValueError):
        pass
    return out


def local_networks() -> list[tuple[str, str, int]]:
    """(interface, address, prefix length) for each address of this machine that
    another host could use: loopback and IPv6 link-local (which needs a scope to
    be typed) left out; IPv4 link-local 169.254 only when there is nothing else.
    The server window uses it to tell, per network, whether anyone there has
    reached the room. Empty when ifaddr is missing or fails."""
    try:
        import ifaddr
        adapters = ifaddr.get_adapters()
    except Exception:                     # a broken interface list must never stop a window
        return []
    found: list[tuple[str, str, int]] = []
    link_local: list[tuple[str, str, int]] = []
    for adapter in adapters:
        for ip in adapter.ips:
            address = ip.ip if isinstance(ip.ip, str) else ip.ip[0]
            address = address.split("%")[0]
            if address.startswith(("127.", "fe80:")) or address in ("::1", "::", "0.0.0.0"):
                continue
            row = (str(adapter.nice_name), address, int(ip.network_prefix))
            (link_local if address.startswith("169.254.") else found).append(row)
    return found or link_local
