"""udpcore: a LAN chat over UDP — pure protocol core, one socket thread, typed events."""

__version__ = "1.0.0"
