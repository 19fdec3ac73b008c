"""One end of a session: a reliable channel plus the clocks that keep it alive.

Both engines hold one :class:`Peer` per session (the server one per member, the
client one for the server), so framing, acknowledgement, keepalive and loss
detection are written once.
"""
from __future__ import annotations

from collections.abc import Sequence

from .appmsg import AppMessage, decode_msg, encode_msg
from .errors import ProtocolError
from .frames import Frames, encode_frames, groups
from .reliable import Frame, ReliableChannel
from .sealing import Seal
from .wire import STAMP_MASK, Ack, Data, Ping, data_prefix, encode_ack
from .wire import DATA_REST as _DATA_REST

_pack_rest = _DATA_REST.pack

KEEPALIVE = 5.0        # send a PING after this long with nothing sent
MEMBER_TIMEOUT = 20.0  # the server forgets a member silent this long ("vanished")
SERVER_TIMEOUT = 15.0  # the client calls the server lost sooner, so a resume finds its session


class Peer:
    __slots__ = ("session", "channel", "seal", "last_heard", "last_sent", "malformed", "holding_since",
                 "_data_prefix")

    def __init__(self, session: bytes, now: float, channel: ReliableChannel | None = None,
                 seal: Seal | None = None) -> None:
        self.session = session
        self.seal = seal                             # None only in tests of the channel itself
        self.channel = channel or ReliableChannel()
        self.last_heard = now
        self.last_sent = now
        self.malformed = 0
        self.holding_since: float | None = None      # since when an incomplete message waits
        self._data_prefix = data_prefix(session)     # what every DATA to this peer starts with

    def wrap(self, packet: bytes) -> bytes:
        """An encoded session packet as it goes on the wire: sealed."""
        seal = self.seal
        return packet if seal is None else seal.seal(packet)

    def send(self, msg: AppMessage | bytes, *, capped: bool = True) -> None:
        """Queue a message (or its already-encoded bytes, to share one encoding
        across many members). Raises BacklogFull when the backlog is full
        (unless ``capped`` is false: see ReliableChannel.send)."""
        self.channel.send(msg if isinstance(msg, bytes) else encode_msg(msg), capped=capped)

    def receive(self, p: Data | Frames | Ack | Ping, now: float) -> list[AppMessage]:
        """Handle a session packet already checked to come from this peer."""
        self.last_heard = now
        ch = self.channel
        if isinstance(p, Data):
            ch.on_ack(p.ack, p.sack, p.echo, now)
            ch.heard(p.ts, now)
            return self._messages(ch.on_data(p.seq, p.flags, p.payload), now)   # may raise ProtocolError
        if isinstance(p, Frames):
            ch.on_ack(p.ack, p.sack, p.echo, now)
            ch.heard(p.ts, now)
            raws: list[bytes] = []
            for seq, flags, payload in p.frames:
                raws += ch.on_data(seq, flags, payload)
            return self._messages(raws, now)
        if isinstance(p, Ack):
            ch.on_ack(p.ack, p.sack, p.echo, now)
        else:
            ch.ack_needed = True          # a PING asks for proof of life
        return []

    def _messages(self, raws: list[bytes], now: float) -> list[AppMessage]:
        """The messages completed by what just arrived; a malformed one is counted."""
        out = []
        for raw in raws:
            try:
                out.append(decode_msg(raw))
            except ProtocolError:
                self.malformed += 1
        if not self.channel.holding:
            self.holding_since = None
        elif self.holding_since is None:
            self.holding_since = now
        return out

    def datagrams(self, now: float) -> list[bytes]:
        """What may go now: DATA or FRAMES (each carrying our ack), or a bare ACK."""
        ch = self.channel
        frames = ch.poll(now)
        if frames:
            return self._data(frames, now)
        if ch.ack_needed:
            ch.ack_needed = False
            self.last_sent = now
            return [self.wrap(encode_ack(self.session, *ch.ack_fields(now)))]
        return []

    def _data(self, frames: Sequence[Frame], now: float) -> list[bytes]:
        """The datagrams for these frames, each carrying our ack fields and timestamp:
        one DATA for a frame alone, FRAMES for several due together (udpcore/frames.py)."""
        ch = self.channel
        ack, sack, echo = ch.ack_fields(now)
        ch.ack_needed = False
        self.last_sent = now
        ts = int(now * 1_000_000) & STAMP_MASK           # wire.stamp, inlined
        runs = (frames,) if len(frames) == 1 else groups(frames)     # a lone line: the commonest case
        prefix = self._data_prefix
        out = [encode_frames(self.session, ack, sack, ts, echo, run) if len(run) > 1 else
               prefix + _pack_rest(run[0][0], ack, sack, run[0][1], ts, echo) + run[0][2]
               for run in runs]
        seal = self.seal
        return out if seal is None else [seal.seal(d) for d in out]

    def lost(self, now: float, timeout: float) -> bool:
        """Nothing heard, or our oldest data unacknowledged, for ``timeout`` seconds."""
        # Written as ``now >= t + timeout``, the very sum a timer is armed with:
        # ``now - t >= timeout`` can be false at that instant by float rounding, and
        # a timer that fires and finds nothing due fires again at once (a spin).
        if now >= self.last_heard + timeout:
            return True
        oldest = self.channel.oldest_unacked()
        return oldest is not None and now >= oldest + timeout

    def stalled(self, now: float, timeout: float) -> bool:
        """An incomplete message (or a hole) has waited ``timeout`` seconds: a sender
        that never finishes what it started only pins memory."""
        return self.holding_since is not None and now >= self.holding_since + timeout

    def keepalive_at(self) -> float:
        return self.last_sent + KEEPALIVE

    def needs_keepalive(self, now: float) -> bool:
        return now >= self.last_sent + KEEPALIVE
