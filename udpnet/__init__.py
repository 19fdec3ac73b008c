"""udpnet: the only I/O. A UDP socket and one background thread per engine,
events handed to the program on a ``queue.Queue`` (``events``).

The windows poll that queue with Tk's ``after()``; the terminal programs block
on it. Nothing here touches a widget or words a sentence.
"""
from __future__ import annotations

from .client import SEND_AHEAD, ClientTransport, start_client
from .history import HistoryError, HistoryInUse, HistoryUnavailable
from .discovery import RoomFinder, broadcast_targets, discover, find_room, server_or_room
from .interfaces import local_addresses, local_networks
from .loop import EventQueue, SocketLoop
from .server import ServerTransport, start_server
from .sockets import resolve

__all__ = ["start_server", "start_client", "ServerTransport", "ClientTransport", "EventQueue", "SocketLoop",
           "local_addresses", "local_networks", "resolve", "SEND_AHEAD", "RoomFinder", "discover", "find_room", "server_or_room",
           "broadcast_targets", "HistoryError", "HistoryInUse", "HistoryUnavailable"]
