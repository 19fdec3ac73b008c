"""Reliable, ordered, exactly-once delivery over datagrams: one channel per peer.

Sender: each fragment gets a sequence number; at most ``WINDOW`` are in flight;
a fragment is retransmitted when its timer (RTO from :mod:`udpcore.rtt`)
expires, or at once when three later fragments were selectively acknowledged
(fast retransmit). Receiver: a cumulative ack (the next sequence number
expected) plus a 32-bit SACK bitmap of what arrived beyond it; duplicates are
dropped; fragments are released in order and reassembled into messages.

Round trips are timed from an echoed timestamp (RFC 7323's idea, with QUIC's
ack delay folded in): every ack carries the timestamp of the last DATA received
plus how long it was held, so a sample is exact even when it acknowledges a
retransmission or comes long after the data (its own ack lost).

Pure logic: the caller passes ``now`` and moves the frames in and out.
"""
from __future__ import annotations

from collections import deque

from .errors import BacklogFull, ProtocolError
from .rtt import RttEstimator
from .wire import FLAG_MORE, MAX_FRAGMENT, STAMP_MASK

WINDOW = 32                    # fragments in flight per peer: no more than SACK can describe
RECEIVE_WINDOW = 256           # out-of-order fragments buffered per peer
SACK_BITS = 32
MAX_REASSEMBLY = 128 * 1024    # largest message a peer may send (a long member list)
_NEVER = float("inf")
DUP_THRESHOLD = 3              # fragments SACKed beyond a hole that make it lost (RFC 6675)
MAX_SAMPLE = 60.0              # an echo older than this is nonsense (a clock wrap, a broken peer)
THIN_STREAM = 4                # fewer fragments than this in the network: a thin stream...
THIN_LINEAR_TIMEOUTS = 6       # ...whose first timeouts in a row keep RTO linear (as Linux's
                               # tcp_thin_linear_timeouts), before backing off exponentially


class _InFlight:
    __slots__ = ("seq", "flags", "payload", "sent_at", "deadline", "sacked", "fast_resent")

    def __init__(self, seq: int, flags: int, payload: bytes, sent_at: float, deadline: float) -> None:
        self.seq = seq
        self.flags = flags
        self.payload = payload
        self.sent_at = sent_at
        self.deadline = deadline
        self.sacked = False
        self.fast_resent = False


Frame = tuple[int, int, bytes]   # (seq, flags, payload): a plain tuple, the relay's hot path


class ReliableChannel:
    """Both directions of reliable delivery with one peer."""

    def __init__(self, window: int = WINDOW, max_backlog: int = 50_000, *,
                 receive_window: int = RECEIVE_WINDOW, max_message: int = MAX_REASSEMBLY) -> None:
        self.rtt = RttEstimator()
        self.window = window
        self.max_backlog = max_backlog
        # What a peer can make us hold: receive_window fragments out of order plus
        # max_message bytes of one message. The server keeps both small per member.
        self.receive_window = receive_window
        self.max_message = max_message
        # send side
        self._next_seq = 0
        self._backlog: deque[tuple[int, bytes]] = deque()   # (flags, payload) not yet sent
        self._inflight: dict[int, _InFlight] = {}            # insertion order == seq order
        self._due: list[_InFlight] = []                       # to (re)send on next poll
        self._acked_parts: list[bytes] = []   # acknowledged fragments of a message not yet complete
        self._more_in_flight = 0              # fragments in flight that a message's next ones follow
        # receive side
        self._expected = 0
        self._ooo: dict[int, tuple[int, bytes]] = {}
        self._parts: list[bytes] = []
        self._parts_len = 0
        self.ack_needed = False
        self._echo_ts = 0             # ts of the last DATA received, and when it came
        self._echo_at = 0.0
        self.duplicates = 0
        self.retransmissions = 0
        self._backoff_until = 0.0     # RTO doubles at most once per RTO period, not per fragment
        self._timeouts = 0            # timeouts since the peer last acknowledged anything new

    # --- sending --------------------------------------------------------------

    def send(self, message: bytes, *, capped: bool = True) -> None:
        """Queue one message; it is split into fragments that fit a datagram.

        Raises BacklogFull when more than ``max_backlog`` fragments wait; a
        control message (``capped=False``: the SYNC and LEAVE of a goodbye) is
        queued anyway, so leaving never fails because the line before it did."""
        if capped and len(self._backlog) > self.max_backlog:
            raise BacklogFull()
        if len(message) <= MAX_FRAGMENT:          # nearly every chat line
            self._backlog.append((0, message))
            return
        chunks = [message[i:i + MAX_FRAGMENT] for i in range(0, len(message), MAX_FRAGMENT)]
        last = len(chunks) - 1
        for i, chunk in enumerate(chunks):
            self._backlog.append((0 if i == last else FLAG_MORE, chunk))

    @property
    def backlog(self) -> int:
        """Fragments queued or in flight (not yet acknowledged)."""
        return len(self._backlog) + len(self._inflight)

    @property
    def idle(self) -> bool:
        """Everything sent was acknowledged."""
        return not self._backlog and not self._inflight

    def oldest_unacked(self) -> float | None:
        """When the oldest fragment still unacknowledged was first sent."""
        for f in self._inflight.values():
            return f.sent_at
        return None

    def take_unsent_messages(self) -> list[bytes]:
        """Everything not yet acknowledged, reassembled into whole messages.

        Used when a session is replaced by a new one (the server forgot us): what
        the old session never got acknowledged is sent again on the new one,
        whole: a message whose first fragments the old session had acknowledged
        is rebuilt from those kept in ``_acked_parts``.
        """
        frags = [(f.flags, f.payload) for f in self._inflight.values()] + list(self._backlog)
        self._inflight.clear()
        self._more_in_flight = 0
        self._backlog.clear()
        self._due.clear()
        out: list[bytes] = []
        parts, self._acked_parts = self._acked_parts, []
        for flags, payload in frags:
            parts.append(payload)
            if not flags & FLAG_MORE:
                out.append(b"".join(parts))
                parts = []
        return out

    def poll(self, now: float) -> list[Frame]:
        """(seq, flags, payload) to send now: retransmissions due, then new fragments
        within the window."""
        backlog, inflight = self._backlog, self._inflight
        if not self._due and not backlog:
            return []                          # an ACK's visit: the common case
        out: list[Frame] = []
        if self._due:
            for f in self._due:
                if f.seq in self._inflight:
                    f.deadline = now + self.rtt.rto
                    out.append((f.seq, f.flags, f.payload))
            self._due.clear()
        room = self.window - len(inflight)
        if backlog and room > 0:
            deadline = now + self.rtt.rto
            seq = self._next_seq
            for _ in range(min(room, len(backlog))):
                flags, payload = backlog.popleft()
                if flags & FLAG_MORE:
                    self._more_in_flight += 1
                inflight[seq] = _InFlight(seq, flags, payload, now, deadline)
                out.append((seq, flags, payload))
                seq = (seq + 1) & 0xFFFFFFFF
            self._next_seq = seq
        return out

    def has_output(self) -> bool:
        return bool(self._due) or (bool(self._backlog) and len(self._inflight) < self.window)

    def on_ack(self, ack: int, sack: int, echo: int, now: float) -> None:
        """Process a cumulative ack (next seq the peer expects), SACK bitmap and echo."""
        progressed = False
        inflight = self._inflight
        if inflight and not self._more_in_flight:
            # The commonest ack in a busy room covers everything in flight (its keys run
            # on from the first, one by one): dropped at once, not a fragment at a time.
            # Each is a message's last fragment, so no acknowledged part is kept.
            if len(inflight) <= ((ack - next(iter(inflight))) & 0xFFFFFFFF) < 0x80000000:
                inflight.clear()
                self._acked_parts.clear()
                progressed = True
        while inflight:
            seq = next(iter(inflight))
            if not 0 < ((ack - seq) & 0xFFFFFFFF) < 0x80000000:    # seq before ack, modulo 2**32
                break
            f = inflight.pop(seq)
            progressed = True
            if f.flags & FLAG_MORE:            # kept until the message's last fragment is acked
                self._more_in_flight -= 1
                self._acked_parts.append(f.payload)
            elif self._acked_parts:
                self._acked_parts.clear()
        if sack and inflight:
            for i in range(SACK_BITS):
                if sack >> i & 1:
                    f = inflight.get((ack + 1 + i) & 0xFFFFFFFF)
                    if f is not None and not f.sacked:
                        f.sacked = progressed = True
            # RFC 6675 IsLost: a hole with DUP_THRESHOLD fragments SACKed beyond it is
            # lost. Counted in fragments, not in ACKs: a receiver that reads a burst
            # in one batch acknowledges it with one ACK, and counting duplicate ACKs
            # then left a lost first line to the initial 1 s RTO.
            above = sum(1 for f in inflight.values() if f.sacked)
            for f in inflight.values():
                if above < DUP_THRESHOLD:
                    break
                if f.sacked:
                    above -= 1
                elif not f.fast_resent:
                    f.fast_resent = True
                    self._retransmit(f)
        if progressed:
            self._timeouts = 0
            # The echo times the round trip of the last DATA the peer received, less
            # the time the peer held it: no Karn ambiguity, no ack-loss inflation.
            # Taken only on progress, as RFC 6298 samples once per new acknowledgement.
            rtt = ((int(now * 1_000_000) - echo) & STAMP_MASK) / 1_000_000    # stamp_age, inlined
            if rtt < MAX_SAMPLE:
                self.rtt.sample(rtt)           # also undoes any backoff
            else:
                self.rtt.reset_backoff()

    def _retransmit(self, f: _InFlight) -> None:
        if f.deadline == _NEVER:
            return                         # already waiting in _due
        f.deadline = _NEVER                # poll() re-arms it when it goes out
        self.retransmissions += 1
        self._due.append(f)

    def get_timer(self) -> float | None:
        """The earliest retransmission deadline, or None when nothing waits on one."""
        if not self._inflight:
            return None                    # an idle member (keepalives only): the common case
        deadline = min((f.deadline for f in self._inflight.values() if not f.sacked), default=_NEVER)
        return None if deadline == _NEVER else deadline

    def resend_outstanding(self) -> None:
        """Send again, at the next poll, everything not yet acknowledged: the peer came
        back (a resume). Not a timeout, so nothing is backed off."""
        for f in self._inflight.values():
            if not f.sacked:
                self._retransmit(f)

    def handle_timer(self, now: float) -> bool:
        """Mark every fragment whose timer expired for retransmission; back off once.

        Backoff (RFC 6298 5.5) answers congestion. A thin stream -- a hole or two
        left in the network, the rest SACKed or idle, as chat traffic mostly is --
        cannot cause any, and at 20% loss each way a retransmission round trip
        fails one time in three: doubling on every failure turned a few unlucky
        round trips into seconds of silence (40 ms to 4.6 s after seven). So its
        first timeouts in a row keep RTO as it is; a peer that stays silent is
        then backed off from as usual."""
        pending = [f for f in self._inflight.values() if not f.sacked]
        expired = [f for f in pending if f.deadline <= now]
        for f in expired:
            self._retransmit(f)
        if expired and now >= self._backoff_until:
            self._timeouts += 1
            if len(pending) >= THIN_STREAM or self._timeouts > THIN_LINEAR_TIMEOUTS:
                self.rtt.backoff()
            self._backoff_until = now + self.rtt.rto
        return bool(expired)

    # --- receiving ------------------------------------------------------------

    def heard(self, ts: int, now: float) -> None:
        """A DATA stamped ``ts`` arrived now: our acks echo it until the next one."""
        self._echo_ts = ts
        self._echo_at = now

    def on_data(self, seq: int, flags: int, payload: bytes) -> list[bytes]:
        """Accept one fragment; return the messages now complete, in order."""
        self.ack_needed = True
        offset = (seq - self._expected) & 0xFFFFFFFF
        if offset >= self.receive_window:
            self.duplicates += 1          # old (already delivered) or absurdly far ahead
            return []
        if offset > 0:
            if seq in self._ooo:
                self.duplicates += 1
            else:
                self._ooo[seq] = (flags, payload)
            return []
        out: list[bytes] = []
        self._accept(flags, payload, out)
        while self._ooo:
            nxt = self._ooo.pop(self._expected, None)
            if nxt is None:
                break
            self._accept(nxt[0], nxt[1], out)
        return out

    def _accept(self, flags: int, payload: bytes, out: list[bytes]) -> None:
        self._expected = (self._expected + 1) & 0xFFFFFFFF
        self._parts_len += len(payload)
        if self._parts_len > self.max_message:
            self._parts.clear()
            self._parts_len = 0
            raise ProtocolError("message too large")
        self._parts.append(payload)
        if not flags & FLAG_MORE:
            out.append(b"".join(self._parts) if len(self._parts) > 1 else payload)
            self._parts.clear()
            self._parts_len = 0

    @property
    def holding(self) -> bool:
        """Part of a message, or fragments beyond a hole, are waiting for the rest."""
        return bool(self._parts or self._ooo)

    def ack_fields(self, now: float) -> tuple[int, int, int]:
        """(cumulative ack, SACK bitmap, echo) describing what we have received."""
        sack = 0
        if self._ooo:
            base = self._expected + 1
            for seq in self._ooo:
                i = (seq - base) & 0xFFFFFFFF
                if i < SACK_BITS:
                    sack |= 1 << i
        return self._expected, sack, (self._echo_ts + int((now - self._echo_at) * 1_000_000)) & STAMP_MASK
