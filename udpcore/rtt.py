"""Retransmission timeout from measured round trips (RFC 6298).

SRTT and RTTVAR are smoothed with alpha 1/8 and beta 1/4; RTO = SRTT + max(G,
4*RTTVAR), clamped. Karn's rule (no samples from retransmitted data) is the
caller's job; backoff doubles RTO until the next fresh sample.
"""
from __future__ import annotations

INITIAL_RTO = 1.0   # RFC 6298 (2.1)
MIN_RTO = 0.05      # RFC 6298 asks 1 s; on a LAN that wastes recovery time (Linux uses 0.2)
MAX_RTO = 8.0       # a lost peer is declared after ~15 s anyway
GRANULARITY = 0.001


class RttEstimator:
    __slots__ = ("srtt", "rttvar", "rto")

    def __init__(self) -> None:
        self.srtt: float | None = None
        self.rttvar = 0.0
        self.rto = INITIAL_RTO

    def sample(self, rtt: float) -> None:
        rtt = max(rtt, 0.0)
        if self.srtt is None:                     # (2.2) first measurement
            self.srtt = rtt
            self.rttvar = rtt / 2
        else:                                     # (2.3) later measurements
            self.rttvar = 0.75 * self.rttvar + 0.25 * abs(self.srtt - rtt)
            self.srtt = 0.875 * self.srtt + 0.125 * rtt
        self.rto = min(MAX_RTO, max(MIN_RTO, self.srtt + max(GRANULARITY, 4 * self.rttvar)))

    def backoff(self) -> None:
        """(5.5) the retransmission timer expired: double RTO."""
        self.rto = min(MAX_RTO, self.rto * 2)
