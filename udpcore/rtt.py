"""Retransmission timeout from measured round trips (RFC 6298).

SRTT and RTTVAR are smoothed with alpha 1/8 and beta 1/4; RTO = SRTT + max(G,
4*RTTVAR), clamped. Samples come from echoed timestamps (udpcore.reliable), so
they are unambiguous even for retransmitted data and Karn's rule is not needed.
Backoff doubles RTO on a timeout; a fresh sample undoes it, and so does any
new acknowledgement (as in QUIC, RFC 9002 6.2.1), since either shows the path
works again.
"""
from __future__ import annotations

INITIAL_RTO = 1.0   # RFC 6298 (2.1)
MIN_RTO = 0.01      # RFC 6298 asks 1 s, Linux 0.2 s (for delayed ACKs); ours ACK at once,
                    # so the floor covers scheduling jitter only (QUIC: 1 ms + ACK delay)
MAX_RTO = 8.0       # a lost peer is declared after ~15 s anyway
GRANULARITY = 0.001


class RttEstimator:
    __slots__ = ("srtt", "rttvar", "rto", "_base")

    def __init__(self) -> None:
        self.srtt: float | None = None
        self.rttvar = 0.0
        self.rto = self._base = INITIAL_RTO

    def sample(self, rtt: float) -> None:
        # Comparisons rather than max()/min()/abs(): this runs for nearly every ACK.
        if rtt < 0.0:
            rtt = 0.0
        srtt = self.srtt
        if srtt is None:                          # (2.2) first measurement
            srtt, var = rtt, rtt / 2
        else:                                     # (2.3) later measurements
            d = srtt - rtt
            var = 0.75 * self.rttvar + 0.25 * (d if d >= 0.0 else -d)
            srtt = 0.875 * srtt + 0.125 * rtt
        self.srtt = srtt
        self.rttvar = var
        var *= 4
        rto = srtt + (var if var > GRANULARITY else GRANULARITY)
        self.rto = self._base = MIN_RTO if rto < MIN_RTO else MAX_RTO if rto > MAX_RTO else rto

    def backoff(self) -> None:
        """(5.5) the retransmission timer expired: double RTO."""
        self.rto = min(MAX_RTO, self.rto * 2)

    def reset_backoff(self) -> None:
        """The peer acknowledged something new: RTO back to what the samples say."""
        self.rto = self._base
