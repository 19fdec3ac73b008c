"""A token bucket: the one rate limiter for members, guests and the room's guest traffic.

Pure: the caller passes ``now``. A bucket holds at most ``burst`` tokens and
gains ``rate`` a second; each line takes one.
"""
from __future__ import annotations


class TokenBucket:
    __slots__ = ("rate", "burst", "tokens", "stamp")

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst        # a newcomer may say its first lines at once
        self.stamp = now

    def take(self, now: float) -> float:
        """Take one token: 0.0 when there was one, else the seconds until there will be
        (nothing is taken then). Tokens gained since the last take come first, up to burst."""
        tokens = self.tokens
        if now > self.stamp:
            tokens = min(self.burst, tokens + (now - self.stamp) * self.rate)
            self.stamp = now
        if tokens >= 1.0:
            self.tokens = tokens - 1.0
            return 0.0
        self.tokens = tokens
        if self.rate <= 0:
            return float("inf")
        return (1.0 - tokens) / self.rate
