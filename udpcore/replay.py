"""Anti-replay: a sliding window of packet numbers already opened (RFC 6347 4.1.2.6).

One window per direction and session, as DTLS keeps. ``highest`` is the largest
packet number opened so far; bit ``i`` of the bitmap is set when ``highest - i``
has been opened, for ``i`` below ``width``. A packet number is acceptable when
it is above ``highest``, or within ``width - 1`` below it and not yet seen;
anything ``width`` or more behind is refused (it can no longer be told apart
from a replay).

Check before opening, mark only after the AEAD has authenticated the packet:
a forged datagram (any packet number, no key) then cannot move the window or
burn a number the real sender has yet to use.
"""
from __future__ import annotations

MIN_WIDTH = 64          # DTLS 1.2's minimum (RFC 6347 4.1.2.6 "MUST be supported")


class ReplayWindow:
    def __init__(self, width: int = MIN_WIDTH) -> None:
        if width < MIN_WIDTH:
            raise ValueError(f"replay window width {width} is below {MIN_WIDTH}")
        self.width = width
        self.highest: int | None = None      # nothing opened yet
        self._bits = 0
        self._mask = (1 << width) - 1

    def check(self, pn: int) -> bool:
        """May ``pn`` be opened (it is new and not too old)? Changes nothing."""
        if pn < 0:
            return False
        if self.highest is None or pn > self.highest:
            return True
        behind = self.highest - pn
        if behind >= self.width:
            return False
        return not (self._bits >> behind) & 1

    def mark(self, pn: int) -> None:
        """``pn`` opened (authenticated): remember it, moving the window when it is the highest yet.

        Call only after :meth:`check` said yes and the packet authenticated; a
        number already out of the window is ignored."""
        if self.highest is None:
            self.highest, self._bits = pn, 1
        elif pn > self.highest:
            shift = pn - self.highest
            self._bits = ((self._bits << shift) | 1) & self._mask if shift < self.width else 1
            self.highest = pn
        elif self.highest - pn < self.width:
            self._bits |= 1 << (self.highest - pn)
