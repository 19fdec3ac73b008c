"""The theme's drawn parts at 96 and 192 dpi and under the zoom (chatui/theme_scale.py):
scroll bars, check boxes, radio buttons and the combo box's arrow grow with the
screen, in Sun Valley (pictures) and in clam (style options), and still work.

Each DPI has its own Xvfb (``-dpi``), the root made as the programs make it
(app.make_root: the theme, then scaling.setup)."""
from __future__ import annotations

import sys
import tkinter as tk
from tkinter import ttk

import pytest

from tests.xvfb import Xvfb

pytestmark = [pytest.mark.gui, pytest.mark.timeout(90)]


@pytest.fixture(scope="session")
def displays():
    """An X display at each DPI for the whole session (Tk keeps its connection to the end)."""
    made = {dpi: Xvfb(size="3840x2160x24", dpi=dpi, set_display=False) for dpi in (96, 192)}
    yield {dpi: x.display for dpi, x in made.items()}
    for x in made.values():
        x.close()


class Parts:
    """A root as the programs make it, with one of each part."""

    def __init__(self, displays, monkeypatch, dpi: int, theme: str = "light") -> None:
        monkeypatch.setenv("DISPLAY", displays[dpi])
        if theme == "clam":
            monkeypatch.setitem(sys.modules, "sv_ttk", None)        # sv-ttk missing: the stock theme
        from chatui.app import make_root
        self.root, _ = make_root("ChatClient", "dark" if theme == "dark" else "light")
        self.text = tk.Text(self.root, height=5)
        self.text.insert("end", "\n".join(f"line {i}" for i in range(200)))
        self.bar = ttk.Scrollbar(self.root, orient="vertical", command=self.text.yview)
        self.text.configure(yscrollcommand=self.bar.set)
        self.check = ttk.Checkbutton(self.root, text="Remember on this computer")
        self.radio = ttk.Radiobutton(self.root, text="one", value=1)
        self.combo = ttk.Combobox(self.root, values=["a", "b"])
        self.bar.pack(side="right", fill="y")
        for w in (self.text, self.check, self.radio, self.combo):
            w.pack()
        self.settle()

    def settle(self) -> None:
        for _ in range(5):
            self.root.update()

    def span(self, widget: ttk.Widget, ending: str) -> int:
        """How many pixels across the middle of ``widget`` are its element ``*ending``."""
        y = widget.winfo_height() // 2
        return sum(1 for x in range(widget.winfo_width()) if widget.identify(x, y).endswith(ending))

    def sizes(self) -> dict[str, int]:
        self.settle()
        return {"bar": self.bar.winfo_reqwidth(), "check": self.span(self.check, "indicator"),
                "radio": self.span(self.radio, "indicator"), "arrow": self.span(self.combo, "arrow")}

    def close(self) -> None:
        self.root.destroy()


@pytest.fixture
def parts(displays, monkeypatch, config_dir):
    made: list[Parts] = []

    def make(dpi: int, theme: str = "light") -> Parts:
        made.append(Parts(displays, monkeypatch, dpi, theme))
        return made[-1]
    yield make
    for p in made:
        p.close()


def about(value: int, wanted: float, slack: int = 2) -> bool:
    return abs(value - wanted) <= slack


@pytest.mark.parametrize("theme", ["light", "dark", "clam"])
def test_at_192_dpi_scroll_bars_check_boxes_and_arrows_are_twice_as_large(parts, theme):
    small = parts(96, theme).sizes()
    large = parts(192, theme).sizes()
    assert all(v > 0 for v in small.values()), small
    assert about(large["bar"], 2 * small["bar"]), (small, large)
    assert about(large["check"], 2 * small["check"]), (small, large)
    assert about(large["radio"], 2 * small["radio"]), (small, large)
    if theme != "clam":                       # clam's arrow is drawn to the field's height: grows too, not 2x
        assert about(large["arrow"], 2 * small["arrow"]), (small, large)
    assert large["arrow"] > small["arrow"]


def test_the_zoom_keeps_them_in_step_with_the_text(parts):
    from chatui.scaling import scaler
    p = parts(96)
    at_100 = p.sizes()
    scaler(p.root).set_zoom(2.0, remember=False)
    at_200 = p.sizes()
    assert about(at_200["bar"], 2 * at_100["bar"]) and about(at_200["check"], 2 * at_100["check"]), (at_100, at_200)
    scaler(p.root).set_zoom(0.5, remember=False)
    assert p.sizes() == at_100                # never smaller than the theme's own: still easy to hit
    scaler(p.root).set_zoom(1.0, remember=False)
    assert p.sizes() == at_100


def test_scaled_scroll_bars_still_scroll_and_check_boxes_still_tick(parts):
    p = parts(192)
    x = p.bar.winfo_width() // 2
    y = next(y for y in range(p.bar.winfo_height() - 1, 0, -1) if p.bar.identify(x, y).endswith("downarrow"))
    assert p.bar.identify(x, y).startswith("s200.")         # the scaled arrow
    before = p.text.yview()[0]
    p.bar.event_generate("<ButtonPress-1>", x=x, y=y)
    p.bar.event_generate("<ButtonRelease-1>", x=x, y=y)
    p.settle()
    after_arrow = p.text.yview()[0]
    assert after_arrow > before               # the arrow, found by Tk's bindings under its new name
    x, y = p.bar.winfo_width() // 2, p.bar.winfo_height() // 2
    p.bar.event_generate("<ButtonPress-1>", x=x, y=y)
    p.bar.event_generate("<ButtonRelease-1>", x=x, y=y)
    p.settle()
    assert p.text.yview()[0] > after_arrow    # a click in the trough pages on
    p.check.invoke()
    assert p.check.instate(["selected"])


@pytest.mark.parametrize("dpi", [96, 192])
def test_a_menu_buttons_arrow_is_beside_its_label_not_over_it(parts, dpi):
    """The Alerts button: its arrow was drawn over the last letter (the label took the whole width)."""
    from tkinter import font as tkfont
    p = parts(dpi)
    button = ttk.Menubutton(p.root, text="Alertas")
    button.pack()
    p.settle()
    y = button.winfo_height() // 2
    where = [button.identify(x, y) for x in range(button.winfo_width())]
    arrow = [x for x, e in enumerate(where) if e.endswith("Menubutton.indicator")]
    label = [x for x, e in enumerate(where) if e.split(".")[-1] == "label"]
    text = tkfont.nametofont(str(ttk.Style(p.root).lookup("TMenubutton", "font") or "TkDefaultFont"))
    assert arrow and label and min(arrow) > max(label)
    assert len(label) >= text.measure("Alertas")          # the whole word has room left of the arrow


def test_a_wrapped_sentence_keeps_its_width_at_192_dpi_and_under_the_zoom(displays, monkeypatch, config_dir):
    """wraplength is in the screen's pixels: at 192 dpi the connect form's sentence (a
    locked room's "Wrong passphrase ...") wrapped at half the width it was drawn for."""
    from chatui.connect_form import ConnectForm
    from chatui.scaling import scaler
    widths = {}
    for dpi in (96, 192):
        monkeypatch.setenv("DISPLAY", displays[dpi])
        from chatui.app import make_root
        root, _ = make_root("ChatClient", "light")
        try:
            form = ConnectForm(root, "127.0.0.1", "ana", lambda server, name: None)
            form.pack(fill="both", expand=True)
            root.update()
            widths[dpi] = int(str(form.message.cget("wraplength")))
            if dpi == 192:
                scaler(root).set_zoom(1.5, remember=False)
                zoomed = int(str(form.message.cget("wraplength")))
        finally:
            root.destroy()
    assert widths[96] == 440
    assert about(widths[192], 880)
    assert about(zoomed, 1320)
