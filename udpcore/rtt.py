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
        rtt = max(rtt, 0.0)
        if self.srtt is None:                     # (2.2) first measurement
            self.srtt = rtt
            self.rttvar = rtt / 2
        else:                                     # (2.3) later measurements
            self.rttvar = 0.75 * self.rttvar + 0.25 * abs(self.srtt - rtt)
            self.srtt = 0.875 * self.srtt + 0.125 * rtt
        self.rto = self._base = min(MAX_RTO, max(MIN_RTO, self.srtt + max(GRANULARITY, 4 * self.rttvar)))

    def backoff(self) -> None:
        """(5.5) the retransmission timer expired: double RTO."""
        self.rto = min(MAX_RTO, self.rto * 2)

    def reset_backoff(self) -> None:
        """The peer acknowledged something new: RTO back to what the samples say."""
        self.rto = self._base
