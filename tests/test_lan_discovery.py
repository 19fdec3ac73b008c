"""Rooms found on a LAN for real: broadcast and multicast, only inside network
namespaces this test creates (a bridge, veth pairs) and removes. Nothing is
sent on the host's own network.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid

import pytest

from tests.test_lan_netns import ROOT, _ip, in_ns
from tests.test_headless import Proc

pytestmark = [pytest.mark.netns, pytest.mark.timeout(120)]


class Lan:
    """Namespaces and links made for one test; everything goes at the end."""

    def __init__(self) -> None:
        if shutil.which("ip") is None or os.geteuid() != 0:
            pytest.skip("needs root and iproute2 to make network namespaces")
        self.tag = uuid.uuid4().hex[:6]
        self.spaces: list[str] = []
        self.started: list[Proc] = []

    def ns(self, role: str) -> str:
        name = f"disc-{role}-{self.tag}"
        _ip("netns", "add", name)
        self.spaces.append(name)
        _ip("-n", name, "link", "set", "lo", "up")
        return name

    def link(self, a: str, b: str, dev_a: str, dev_b: str) -> None:
        """A cable between namespaces ``a`` and ``b``, up at both ends, no address yet."""
        _ip("link", "add", f"t{self.tag}", "type", "veth", "peer", "name", f"u{self.tag}")
        _ip("link", "set", f"t{self.tag}", "netns", a, "name", dev_a)
        _ip("link", "set", f"u{self.tag}", "netns", b, "name", dev_b)
        for ns, dev in ((a, dev_a), (b, dev_b)):
            _ip("-n", ns, "link", "set", dev, "addrgenmode", "none")     # no DAD-tentative fe80 of its own
            _ip("-n", ns, "link", "set", dev, "up")

    def run(self, ns: str, *args: str) -> subprocess.CompletedProcess:
        env = dict(os.environ, PYTHONIOENCODING="utf-8")
        return subprocess.run(["ip", "netns", "exec", ns, sys.executable, *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=30)

    def start(self, ns: str, *args: str, stdin: bytes | None = None) -> Proc:
        p = in_ns(ns, *args, stdin=stdin)
        self.started.append(p)
        return p

    def close(self) -> None:
        for p in self.started:
            p.kill()
        for ns in self.spaces:
            out = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True).stdout
            for pid in out.split():
                subprocess.run(["kill", "-9", pid], capture_output=True)
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


@pytest.fixture
def lan(monkeypatch):
    monkeypatch.delenv("LANCHAT_DISCOVERY_HOSTS")      # broadcast: inside these namespaces only
    made = Lan()
    try:
        yield made
    finally:
        made.close()


def listed(result: subprocess.CompletedProcess) -> list[list[str]]:
    assert result.returncode == 0, result.stderr
    return [line.split("\t") for line in result.stdout.splitlines()]


def test_two_clients_on_a_switch_list_the_room_and_join_it_by_name(lan):
    sw, srv, one, two = lan.ns("sw"), lan.ns("srv"), lan.ns("one"), lan.ns("two")
    _ip("-n", sw, "link", "add", "br0", "type", "bridge")
    _ip("-n", sw, "link", "set", "br0", "up")
    for i, ns in enumerate((srv, one, two), 1):
        lan.link(ns, sw, "eth0", f"p{i}")
        _ip("-n", sw, "link", "set", f"p{i}", "master", "br0")
        _ip("-n", ns, "addr", "add", f"10.203.1.{i}/24", "dev", "eth0")
    server = lan.start(srv, "gui_server.py", "--headless", "--room", "Sala 3")
    server.expect(r"listening on")
    for ns in (one, two):
        assert listed(lan.run(ns, "gui_client.py", "--list")) == [["Sala 3", "10.203.1.1:5002", "0 members"]]
    a = lan.start(one, "gui_client.py", "--headless", "--server", "sala 3", "--name", "one")
    a.expect(r"Connected to 10\.203\.1\.1:5002 as one", timeout=15)
    assert listed(lan.run(two, "gui_client.py", "--list")) == [["Sala 3", "10.203.1.1:5002", "1 member"]]
    b = lan.start(two, "gui_client.py", "--headless", "--server", "Sala 3", "--name", "two")
    b.expect(r"Connected to 10\.203\.1\.1:5002 as two", timeout=15)
    a.send("found you by name")
    b.expect(r"^one: found you by name$")


def test_a_server_on_two_subnets_is_found_from_both_listed_once_each(lan):
    srv, one, two = lan.ns("srv"), lan.ns("one"), lan.ns("two")
    lan.link(srv, one, "eth0", "eth0")
    lan.link(srv, two, "eth1", "eth0")
    _ip("-n", srv, "addr", "add", "10.204.1.1/24", "dev", "eth0")
    _ip("-n", srv, "addr", "add", "10.204.2.1/24", "dev", "eth1")
    _ip("-n", one, "addr", "add", "10.204.1.2/24", "dev", "eth0")
    _ip("-n", two, "addr", "add", "10.204.2.2/24", "dev", "eth0")
    for ns, dev, v6 in ((srv, "eth0", "fd44:1::1"), (srv, "eth1", "fd44:2::1"),
                        (one, "eth0", "fd44:1::2"), (two, "eth0", "fd44:2::2")):
        _ip("-n", ns, "-6", "addr", "add", f"{v6}/64", "dev", dev, "nodad")    # heard over IPv6 too
    server = lan.start(srv, "gui_server.py", "--headless", "--room", "Dois")
    server.expect(r"listening on")
    assert listed(lan.run(one, "gui_client.py", "--list")) == [["Dois", "10.204.1.1:5002", "0 members"]]
    assert listed(lan.run(two, "gui_client.py", "--list")) == [["Dois", "10.204.2.1:5002", "0 members"]]


def test_a_server_with_only_an_ipv6_link_local_address_is_found_by_ff02_1(lan):
    srv, cli = lan.ns("srv"), lan.ns("cli")
    lan.link(srv, cli, "ll0", "ll0")
    _ip("-n", srv, "-6", "addr", "add", "fe80::c2:1/64", "dev", "ll0", "nodad")
    _ip("-n", cli, "-6", "addr", "add", "fe80::c2:2/64", "dev", "ll0", "nodad")
    server = lan.start(srv, "gui_server.py", "--headless", "--room", "só link-local")
    server.expect(r"listening on")
    assert listed(lan.run(cli, "gui_client.py", "--list")) == [["só link-local", "[fe80::c2:1%ll0]:5002",
                                                                "0 members"]]
    a = lan.start(cli, "gui_client.py", "--headless", "--server", "só link-local", "--name", "ll")
    a.expect(r"Connected to .*fe80::c2:1.* as ll", timeout=15)
    server.expect(r"ll joined from \[fe80::c2:2")


def test_list_finds_nothing_then_a_server_on_this_host_on_another_port(lan):
    ns = lan.ns("alone")
    none = lan.run(ns, "gui_client.py", "--list")
    assert none.returncode == 1 and none.stdout == ""
    assert none.stderr.startswith("ChatClient: No room answered on the network within 2 s.")
    assert len(none.stderr.strip().splitlines()) == 1
    server = lan.start(ns, "gui_server.py", "--headless", "--port", "5009", "--room", "aqui")
    server.expect(r"listening on")
    assert listed(lan.run(ns, "gui_client.py", "--list")) == [["aqui", "127.0.0.1:5009", "0 members"]]
    # --ports narrows the search: a server outside it is not found.
    assert lan.run(ns, "gui_client.py", "--list", "--ports", "5002-5008").returncode == 1
