"""Past lines in the history pane, as blocks: what was said before we came
("earlier", and our own stored copy), what was said while we were away
("missed"), and older pages loaded by scrolling back ("older").

Each block shown is a *section* with two marks: ``hd<k>`` where its furniture
starts (the "N earlier lines are not shown" marker, then its heading) and
``tp<k>`` where its lines start. Both have left gravity, so an older page put
at ``tp<k>`` lands inside the section, under its heading, and the marker put
at ``hd<k>`` lands above the heading. An older page goes in front of the line
that follows it in the room's order (by seq), so a page that fills the gap
above a catch-up lands there and not at the top of the pane.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Callable

from chatfront import history_wording as hw
from chatfront.wording import private_tag
from udpcore import events as ev

if TYPE_CHECKING:
    from .history import Entry


@dataclass
class Section:
    k: int
    style: str                 # 'dim' (earlier, stored, older) or 'missed'
    first_seq: int
    first_at: float
    last_at: float
    more: int = 0              # room lines before it that were not sent


class BlocksMixin:
    """Mixed into HistoryPane (which provides text, append, insert_at, dated…)."""

    def init_blocks(self) -> None:
        self.sections: list[Section] = []
        self.tail: Section | None = None        # the block at the bottom, while no live line followed it
        self.low_seq = 0                        # the oldest room line shown
        self.older_exhausted = False            # an older page came back empty
        self.me = ""                            # whose window: private lines say "to NAME" or "private"
        self.tag_of: Callable[[ev.HistoryLine], str] = lambda line: private_tag(line, self.me)  # type: ignore
        self._blocks = 0

    def note_seq(self, seq: int) -> None:
        if not self.low_seq or seq < self.low_seq:
            self.low_seq = seq

    def may_have_older(self) -> bool:
        """Is there possibly something older to load when the reader reaches the top?"""
        if self.trimmed:                         # type: ignore[attr-defined]
            return False
        return any(s.more > 0 for s in self.sections) or (not self.older_exhausted and self.low_seq > 1)

    def entries_of(self, lines: tuple[ev.HistoryLine, ...], style: str) -> list["Entry"]:
        from .history import Entry
        return [Entry("line", x.text, x.sender, x.action, self.tag_of(x) if x.private_to else "",
                      when=x.at or None, seq=x.seq, style=style) for x in lines]

    def _seen(self, e: "Entry") -> bool:
        if e.seq > 0:
            return e.seq in self.seqs            # type: ignore[attr-defined]
        return (e.when, e.sender, e.text, e.private) in self._private_seen   # type: ignore[attr-defined]

    def _heading(self, sec: Section) -> "Entry":
        from .history import Entry
        if sec.style == "missed":
            return Entry("missedhead", hw.missed_heading(sec.first_at, sec.last_at), block=sec.k, style="missed")
        return Entry("heading", hw.earlier_heading(), block=sec.k)

    def _marker(self, sec: Section, more: int) -> "Entry":
        from .history import Entry
        return Entry("more", "\u2191 " + hw.more_lines(more), block=sec.k, style=sec.style)

    # --- a block at the bottom ---------------------------------------------------------------

    def show_block(self, e: ev.HistoryLines) -> int:
        """Show a block of past lines; returns how many lines were new."""
        if e.kind == "older":
            return self.insert_older(e)
        from .history import Entry
        style = "missed" if e.kind == "missed" else "dim"
        lines = [x for x in self.entries_of(e.lines, style) if not self._seen(x)]
        if e.more > 0:
            self.older_exhausted = False
        if not lines:
            if e.kind == "missed" and not e.lines and not e.more:
                self.append([Entry("notice", hw.nothing_missed())])      # type: ignore[attr-defined]
            return 0
        t = self.text                                                   # type: ignore[attr-defined]
        first_seq = min((x.seq for x in lines if x.seq > 0), default=0)
        at0, at1 = lines[0].when or 0.0, lines[-1].when or 0.0
        sec = self.tail if self.tail is not None and self.tail.style == style else None
        if sec is not None:                      # the next page of the same block: no second heading
            sec.last_at = at1
            self.append(lines, block=True)                              # type: ignore[attr-defined]
            if style == "missed":
                self._retitle(sec)
            return len(lines)
        self._blocks += 1
        sec = Section(self._blocks, style, first_seq, at0, at1, max(e.more, 0))
        chrome = ([self._marker(sec, e.more)] if e.more > 0 else []) + [self._heading(sec)]
        hd, tp = f"hd{sec.k}", f"tp{sec.k}"
        t.mark_set(hd, "end-1c")
        t.mark_gravity(hd, "left")
        self.append(chrome + lines, block=True)                         # type: ignore[attr-defined]
        t.mark_set(tp, f"{hd} + {len(chrome)} lines linestart")
        t.mark_gravity(tp, "left")
        self.sections.append(sec)
        self.tail = sec
        return len(lines)

    def _retitle(self, sec: Section) -> None:
        """A catch-up's heading says its whole span: rewritten as its pages come."""
        t = self.text                                                   # type: ignore[attr-defined]
        rng = t.tag_ranges(f"head{sec.k}")
        if not rng:
            return
        t.configure(state="normal")
        t.delete(rng[0], f"{rng[1]} - 1c")
        t.insert(rng[0], self._heading(sec).text, ("missedhead", f"head{sec.k}", "missed"))
        t.configure(state="disabled")

    def _drop_marker(self, sec: Section) -> None:
        rng = self.text.tag_ranges(f"more{sec.k}")                      # type: ignore[attr-defined]
        if rng:
            self.delete_lines(rng[0], rng[1])                           # type: ignore[attr-defined]
        sec.more = 0

    # --- an older page, above ------------------------------------------------------------------

    def insert_older(self, e: ev.HistoryLines) -> int:
        """Put an older page in front of the line that follows it, keeping the view where
        the reader was. An empty page means there is nothing older: markers go."""
        from .history import day_key
        t = self.text                                                   # type: ignore[attr-defined]
        lines = [x for x in self.entries_of(e.lines, "dim") if not self._seen(x)]
        if not lines:
            self.older_exhausted = True
            for sec in self.sections:
                if sec.more:
                    self._drop_marker(sec)
            return 0
        page_max = max((x.seq for x in lines), default=0)
        succ = min((s for s in self.seqs if s > page_max), default=0)   # type: ignore[attr-defined]
        sec = next((s for s in self.sections if succ and s.first_seq == succ), None)
        top = t.index("@0,0")
        t.mark_set("keep", top)
        if sec is not None and t.compare(top, ">=", f"hd{sec.k}") and t.compare(top, "<", f"seq{succ}"):
            t.mark_set("keep", f"seq{succ}")     # the reader was at the section's top: stay at its first line
        if sec is None and succ and t.compare(f"seq{succ}", ">", "1.0"):
            page, _ = self.dated(self._fresh(lines), None)              # type: ignore[attr-defined]
            self.insert_at(f"seq{succ}", page)                          # type: ignore[attr-defined]
        elif sec is None:                        # nothing of the history above: a new block at the very top
            self._blocks += 1
            sec = Section(self._blocks, "dim", lines[0].seq, lines[0].when or 0.0, lines[-1].when or 0.0)
            self.sections.insert(0, sec)
            hd, tp = f"hd{sec.k}", f"tp{sec.k}"
            t.mark_set(hd, "1.0")
            t.mark_gravity(hd, "left")
            page, _ = self.dated(self._fresh([self._heading(sec)] + lines), None)   # type: ignore[attr-defined]
            self.insert_at("1.0", page)                                 # type: ignore[attr-defined]
            t.mark_set(tp, f"{hd} + 1 lines linestart")
            t.mark_gravity(tp, "left")
        else:
            self._drop_marker(sec)
            lines = [replace(x, style=sec.style) for x in lines]
            tp, first_day = f"tp{sec.k}", day_key(sec.first_at)
            last_day = day_key(lines[-1].when or sec.first_at)
            if "day" in t.tag_names(tp) and last_day == first_day:
                self.delete_lines(tp, f"{tp} + 1 lines linestart")     # type: ignore[attr-defined]
            page, last = self.dated(self._fresh(lines), None)           # type: ignore[attr-defined]
            if sec.style == "missed" and last != first_day:
                from .history import Entry, day_words
                page.append(Entry("day", day_words(sec.first_at), style="missed"))
            self.insert_at(tp, page)                                    # type: ignore[attr-defined]
            sec.first_seq = min((x.seq for x in lines if x.seq > 0), default=sec.first_seq)
            sec.first_at = lines[0].when or sec.first_at
            if sec.style == "missed":
                self._retitle(sec)
        if e.more > 0 and sec is not None:
            sec.more = e.more
            self.insert_at(f"hd{sec.k}", [self._marker(sec, e.more)])  # type: ignore[attr-defined]
        elif e.more <= 0:
            self.older_exhausted = True
        t.yview("keep")
        return len(lines)
