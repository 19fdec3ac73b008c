"""The client engine's states and the transitions between them (h11's _state.py is the model).

    IDLE ──connect──▶ CONNECTING ──WELCOME──▶ JOINED ──leave──▶ DRAINING ──SYNCED──▶ LEAVING ──acked──▶ CLOSED
                          │                    │  ▲                 │                  │
                          │          lost/RESET│  │WELCOME          │                  │
                          │                    ▼  │                 │                  │
                          │                RECONNECTING             │                  │
                          │                                         │                  │
     JOINED, DRAINING, LEAVING ──CLOSING from the server──▶ SERVER_CLOSING ──acked──▶ CLOSED
                                               (rejoin: ──acked──▶ RECONNECTING, until the room opens again)
     JOINED, DRAINING, LEAVING ──REMOVED (kicked, banned)──▶ REMOVED ──acked──▶ CLOSED

Any state but CLOSED may also go straight to CLOSED (refused, unreachable, a
deadline, BYE). DRAINING waits for the answer to a SYNC: the server answers in
order, so when it arrives every line typed before leaving has been echoed.
REMOVED is never left for RECONNECTING: the operator wants us out, so the
engine acknowledges and stops, whatever comes after.
"""
from __future__ import annotations

from enum import Enum


class State(Enum):
    IDLE = "idle"
    CONNECTING = "connecting"            # HELLO until WELCOME, REFUSE or CONNECT_TIMEOUT
    JOINED = "joined"
    RECONNECTING = "reconnecting"        # the server went quiet or forgot us: HELLO again
    DRAINING = "draining"                # leaving: SYNC sent, waiting for everything typed to be echoed
    LEAVING = "leaving"                  # LEAVE sent, waiting for its ack
    SERVER_CLOSING = "server-closing"    # the server is closing the room: acknowledge, then stop
    REMOVED = "removed"                  # the operator kicked or banned us: acknowledge, then stop
    CLOSED = "closed"


S = State
TRANSITIONS: dict[State, frozenset[State]] = {
    S.IDLE: frozenset({S.CONNECTING, S.CLOSED}),
    S.CONNECTING: frozenset({S.JOINED, S.CLOSED}),
    S.JOINED: frozenset({S.RECONNECTING, S.DRAINING, S.SERVER_CLOSING, S.REMOVED, S.CLOSED}),
    S.RECONNECTING: frozenset({S.JOINED, S.CLOSED}),
    S.DRAINING: frozenset({S.LEAVING, S.SERVER_CLOSING, S.REMOVED, S.CLOSED}),
    S.LEAVING: frozenset({S.SERVER_CLOSING, S.REMOVED, S.CLOSED}),
    S.SERVER_CLOSING: frozenset({S.RECONNECTING, S.CLOSED}),   # RECONNECTING: waiting for the room to reopen
    S.REMOVED: frozenset({S.CLOSED}),
    S.CLOSED: frozenset(),
}

# States in which a session with the server exists and carries data.
IN_SESSION = frozenset({S.JOINED, S.DRAINING, S.LEAVING, S.SERVER_CLOSING, S.REMOVED})
# States in which a HELLO may be answered.
HANDSHAKING = frozenset({S.CONNECTING, S.RECONNECTING})
# States in which the user's lines are no longer taken.
GONE = frozenset({S.DRAINING, S.LEAVING, S.SERVER_CLOSING, S.REMOVED, S.CLOSED})
# States the server ends: our acknowledgement goes out, then the engine stops.
ENDED_BY_SERVER = frozenset({S.SERVER_CLOSING, S.REMOVED})


class BadTransition(RuntimeError):
    """The engine tried a transition the table does not allow: a bug in the engine."""
