"""chatfront: what the terminal programs and the windows share above the network.

Parsing what a person types (``commands``), the words a person reads
(``wording``, through ``i18n``), the command-line options (``options``) and the
terminal programs themselves (``headless``). No sockets here: those are
``udpnet``'s; no widgets: those are ``chatui``'s.
"""
