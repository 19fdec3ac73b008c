"""The LAN for real: server and clients on two hosts (network namespaces joined by
a veth pair) that this test creates and removes. Nothing leaves the namespaces.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.test_headless import Proc

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.netns, pytest.mark.timeout(90)]

V4_SERVER, V4_CLIENT = "10.201.7.1", "10.201.7.2"       # only inside the test's namespaces
V6_SERVER, V6_CLIENT = "fd42:7::1", "fd42:7::2"


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


@pytest.fixture
def lan():
    if shutil.which("ip") is None or os.geteuid() != 0:
        pytest.skip("needs root and iproute2 to make network namespaces")
    tag = uuid.uuid4().hex[:6]
    srv_ns, cli_ns = f"chat-srv-{tag}", f"chat-cli-{tag}"
    a, b = f"vs{tag}", f"vc{tag}"
    try:
        _ip("netns", "add", srv_ns)
        _ip("netns", "add", cli_ns)
        _ip("link", "add", a, "type", "veth", "peer", "name", b)
        _ip("link", "set", a, "netns", srv_ns)
        _ip("link", "set", b, "netns", cli_ns)
        for ns, dev, v4, v6 in ((srv_ns, a, V4_SERVER, V6_SERVER), (cli_ns, b, V4_CLIENT, V6_CLIENT)):
            _ip("-n", ns, "addr", "add", f"{v4}/24", "dev", dev)
            _ip("-n", ns, "-6", "addr", "add", f"{v6}/64", "dev", dev, "nodad")
            _ip("-n", ns, "link", "set", dev, "up")
            _ip("-n", ns, "link", "set", "lo", "up")
        yield srv_ns, cli_ns
    finally:
        for ns in (srv_ns, cli_ns):
            out = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True).stdout
            for pid in out.split():
                subprocess.run(["kill", "-9", pid], capture_output=True)
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def in_ns(ns: str, *args: str, stdin: bytes | None = None) -> Proc:
    proc = Proc.__new__(Proc)
    env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONIOENCODING="utf-8")
    proc.p = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, *args], cwd=ROOT, env=env,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.lines = []
    proc._start_reader()
    if stdin is not None:
        proc.p.stdin.write(stdin)
        proc.p.stdin.close()
        proc.p.stdin = None
    return proc


def test_clients_on_another_host_reach_the_dual_stack_server(lan):
    srv_ns, cli_ns = lan
    started: list[Proc] = []
    try:
        srv = in_ns(srv_ns, "gui_server.py", "--headless", "--port", "5002")
        started.append(srv)
        srv.expect(r"listening on \[::\]:5002")
        where = srv.expect(r"clients on the network can connect to: (.*)").group(1)
        assert f"{V4_SERVER}:5002" in where and f"[{V6_SERVER}]:5002" in where

        v4 = in_ns(cli_ns, "gui_client.py", "--headless", "--server", V4_SERVER, "--name", "four")
        started.append(v4)
        v4.expect(rf"Connected to {V4_SERVER}:5002 as four")
        v6 = in_ns(cli_ns, "gui_client.py", "--headless", "--server", f"[{V6_SERVER}]:5002", "--name", "six")
        started.append(v6)
        v6.expect(r"Connected to \[fd42:7::1\]:5002 as six")
        srv.expect(rf"four joined from {V4_SERVER[:-1]}2:\d+")
        srv.expect(r"six joined from \[fd42:7::2\]:\d+")

        v4.send("across the LAN")
        v6.expect(r"^four: across the LAN$")
        v6.send("and back over IPv6")
        v4.expect(r"^six: and back over IPv6$")
        srv.send("exit")                    # two members in: the server asks once, the second exit closes
        srv.expect(r"^\* 2 members are in the room\. Type exit again to close it\.$")
        srv.send("exit")
        for c in (v4, v6):
            c.p.wait(timeout=10)
            assert c.p.returncode == 1 and b"closed the room" in c.p.stderr.read()
    finally:
        for p in started:
            p.kill()


def test_a_host_with_only_a_self_assigned_address_lists_it():
    # No DHCP on the network (a cable between two laptops): the only IPv4 address
    # is a 169.254 one, and it is the one the others must type.
    if shutil.which("ip") is None or os.geteuid() != 0:
        pytest.skip("needs root and iproute2 to make network namespaces")
    ns = f"lc-ll-{os.getpid()}"
    try:
        _ip("netns", "add", ns)
        _ip("-n", ns, "link", "add", "v0", "type", "veth", "peer", "name", "v1")
        _ip("-n", ns, "addr", "add", "169.254.20.7/16", "dev", "v0")
        for dev in ("v0", "v1"):
            _ip("-n", ns, "link", "set", dev, "up")
        _ip("-n", ns, "link", "set", "lo", "up")
        out = subprocess.run(["ip", "netns", "exec", ns, sys.executable, "-c",
                              "from udpnet import local_addresses; print(local_addresses())"],
                             cwd=ROOT, capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stderr
        listed = eval(out.stdout)                         # a list of strings, printed by repr
        assert "169.254.20.7" in listed and not [a for a in listed if a.startswith("127.")]
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def test_a_client_reaches_a_server_at_an_ipv6_link_local_address(lan):
    # fe80:: addresses need their interface (the scope): getaddrinfo gives it apart
    # from the address, and it used to be dropped, so "[fe80::1%eth0]" could not be
    # reached (and a member at a link-local address could not be answered).
    srv_ns, cli_ns = lan
    srv_dev = subprocess.run(["ip", "-n", srv_ns, "-o", "link", "show", "type", "veth"], capture_output=True,
                             text=True, check=True).stdout.split(":")[1].strip().split("@")[0]
    cli_dev = subprocess.run(["ip", "-n", cli_ns, "-o", "link", "show", "type", "veth"], capture_output=True,
                             text=True, check=True).stdout.split(":")[1].strip().split("@")[0]
    _ip("-n", srv_ns, "-6", "addr", "add", "fe80::c1:1/64", "dev", srv_dev, "nodad")
    _ip("-n", cli_ns, "-6", "addr", "add", "fe80::c1:2/64", "dev", cli_dev, "nodad")
    # A second link on the client's host, as a laptop with Wi-Fi and a cable has:
    # fe80::/64 is then on two interfaces, and only the scope says which.
    _ip("-n", cli_ns, "link", "add", "other0", "type", "veth", "peer", "name", "other1")
    for dev in ("other0", "other1"):
        _ip("-n", cli_ns, "link", "set", dev, "up")
    _ip("-n", cli_ns, "-6", "addr", "add", "fe80::c1:3/64", "dev", "other0", "nodad")
    started: list[Proc] = []
    try:
        srv = in_ns(srv_ns, "gui_server.py", "--headless", "--port", "5002")
        started.append(srv)
        srv.expect(r"listening on \[::\]:5002")
        one = in_ns(cli_ns, "gui_client.py", "--headless", "--server", f"[fe80::c1:1%{cli_dev}]:5002", "--name", "ll")
        started.append(one)
        one.expect(r"Connected to .* as ll", timeout=15)
        srv.expect(r"ll joined from \[fe80::c1:2")
        one.send("over the link")
        srv.expect(r"^ll: over the link$")
        srv.send("hello, link-local")
        one.expect(r"^server: hello, link-local$")
    finally:
        for p in started:
            p.kill()
