"""The layers show in the folders, and the imports respect them.

udpcore is the pure protocol: it imports no socket, thread, clock, terminal or
window module, and none of the packages above it. udpnet (the socket thread) and
chatfront (words, commands, terminal programs) never import the windows. The
programs above the core use each package's public face, not its insides.
Checked on the source (ast), so an import inside a function counts too.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.timeout(30)

# What each layer may not import (top-level module names).
FORBIDDEN = {
    "udpcore": {"socket", "select", "selectors", "threading", "queue", "asyncio", "argparse", "time",
                "tkinter", "subprocess", "signal", "udpnet", "chatfront", "chatui", "platformdirs", "os", "sys"},
    "udpnet": {"tkinter", "argparse", "chatfront", "chatui"},
    "chatfront": {"tkinter", "chatui", "socket", "select"},
}


def imports_of(path: Path) -> list[tuple[str, int]]:
    """(module, line) for every import in ``path``, relative ones resolved within its package."""
    package = path.parent.relative_to(ROOT).as_posix().replace("/", ".")
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                out.append((".".join(base + ([node.module] if node.module else [])), node.lineno))
            else:
                out.append((node.module or "", node.lineno))
    return out


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_arrow_from_a_lower_layer_to_a_higher_one(package):
    bad = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for module, line in imports_of(path):
            if module.split(".")[0] in FORBIDDEN[package]:
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert bad == []


def test_the_checker_sees_a_forbidden_import(tmp_path, monkeypatch):
    """The test above can fail: a relative and an absolute import are both seen."""
    pkg = ROOT / "udpcore"
    fake = pkg / "_layers_probe.py"
    fake.write_text("import socket\nfrom .wire import MAGIC\n\ndef f():\n    from chatui import app\n")
    try:
        found = [m for m, _ in imports_of(fake)]
    finally:
        fake.unlink()
    assert found == ["socket", "udpcore.wire", "chatui"]


def test_programs_use_the_public_faces_only():
    """Windows, terminal programs, entry scripts and benchmarks import udpcore and
    udpnet by their package names (their __all__), never a module inside them."""
    users = [*sorted((ROOT / "chatui").rglob("*.py")), *sorted((ROOT / "chatfront").rglob("*.py")),
             *sorted((ROOT / "bench").glob("*.py")), *sorted((ROOT / "docs").rglob("*.py")),
             ROOT / "gui_server.py", ROOT / "gui_client.py"]
    # The one exception: the benches' lean members do a client's handshake and sealing
    # themselves (cheaper than a ClientEngine per member), with udpcore's own primitives,
    # all in this one module, so their crypto is never a copy of ours that could drift.
    users.remove(ROOT / "bench" / "lean_crypto.py")
    bad = []
    for path in users:
        for module, line in imports_of(path):
            top, _, rest = module.partition(".")
            if top in ("udpcore", "udpnet") and rest:
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert bad == []


def test_the_public_api_exports_what_it_names():
    import udpcore
    import udpnet
    for mod in (udpcore, udpnet):
        missing = [n for n in mod.__all__ if not hasattr(mod, n)]
        assert missing == [] and len(set(mod.__all__)) == len(mod.__all__)


def test_no_protocol_module_is_much_over_300_lines():
    long = {p.name: n for p in (ROOT / "udpcore").glob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 400}
    assert long == {}
