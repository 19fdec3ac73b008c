"""The room's history in the engines, without sockets: replay, catch-up, paging, gathering.

The server's store is a real in-memory HistoryStore behind the transport's own glue
(udpnet.room_history.RoomHistory), driven between the engines' turns exactly where
the socket thread drives it: after the datagrams came in, before any go out.
"""
from __future__ import annotations

import pytest

from tests.enginepair import SERVER, UNLIMITED, Room, drain
from udpcore import appmsg as m
from udpcore import events as ev
from udpcore.client import ClientEngine
from udpcore.client_state import State
from udpcore.limits import Limits
from udpcore.pastmsg import PAGE_BYTES, PAGE_LINES, Fetch, History
from udpcore.past_service import BACK_WINDOW
from udpcore.server import ServerEngine
from udpnet.history import HistoryStore
from udpnet.room_history import RoomHistory

pytestmark = pytest.mark.timeout(60)


class HistRoom(Room):
    """A Room whose server keeps a history; ``hold_fetches`` leaves FETCHes unanswered."""

    def __init__(self, *, last_lines: int = 0, limits: Limits = UNLIMITED, store: HistoryStore | None = None,
                 **kw) -> None:
        self.wall = 1_800_000_000.0
        self.store = store or HistoryStore.in_memory(now=self.wall)
        for i in range(last_lines):
            self.store.append([_line(self.store.last_seq() + 1, f"old {i}", self.wall)])
        super().__init__(limits=limits, room_id=self.store.room_id, last_seq=self.store.last_seq(), **kw)
        self.problems: list[ev.Event] = []
        self.history = RoomHistory(self.store, self.server, self.problems.append, clock=lambda: self.wall)
        self.hold_fetches = False

    def add_with(self, name: str, **kw) -> ClientEngine:
        addr = ("127.0.0.1", 40000 + len(self.clients))
        c = ClientEngine(name, SERVER, self.now, randbytes=self.rng.randbytes, **kw)
        self.clients[addr] = c
        c.connect(self.now)
        return c

    def step(self) -> int:
        moved = 0
        for addr, c in list(self.clients.items()):
            for data, dst in c.datagrams_to_send(self.now):
                moved += 1
                if not self.drop(data, addr, dst):
                    self.server.receive_datagram(data, addr, self.now)
        self._turn()
        for data, dst in self.server.datagrams_to_send(self.now):
            moved += 1
            c = self.clients.get(dst)
            if c is not None and not self.drop(data, SERVER, dst):
                c.receive_datagram(data, SERVER, self.now)
        return moved

    def _turn(self) -> None:
        if self.hold_fetches:
            said = self.server.take_said()
            self.store.append([_line(s.seq, s.text, self.wall, s.sender) for s in said if s.seq])
        else:
            self.history.turn(self.now)

    def say(self, client: ClientEngine, *texts: str) -> None:
        for t in texts:
            client.say(t)
        self.settle()


def _line(seq: int, text: str, at: float, sender: str = "ana"):
    from udpnet.history import StoredLine
    return StoredLine(seq, at, sender, text, 0)


def blocks(events: list[ev.Event]) -> list[ev.HistoryLines]:
    return [e for e in events if isinstance(e, ev.HistoryLines)]


def texts(block: ev.HistoryLines) -> list[str]:
    return [x.text for x in block.lines]


# --- the server's side ---------------------------------------------------------------------

def test_a_server_without_a_history_collects_nothing_and_says_no_room():
    room = Room(limits=UNLIMITED)
    a = room.add("ana")
    room.settle()
    a.say("oi")
    room.settle()
    assert room.server.take_said() == []
    assert room.server._room.said == []                  # nothing piles up with no store to drain it
    assert not any(isinstance(e, ev.InRoom) for e in drain(a))


def test_numbering_continues_from_the_store_and_every_line_is_stored_before_it_is_sent():
    room = HistRoom(last_lines=7)
    a = room.add_with("ana")
    room.settle()
    drain(a)
    sent_before: list[int] = []
    real_turn = room.history.turn

    def turn(now):
        real_turn(now)
        sent_before.append(room.store.last_seq())
    room.history.turn = turn
    room.say(a, "eight", "nine")
    lines = [e for e in drain(a) if isinstance(e, ev.RoomLine)]
    assert [x.seq for x in lines] == [8, 9]
    assert [x.text for x in room.store.after(7, 10)] == ["eight", "nine"]
    assert max(sent_before) == 9


def test_the_operators_private_lines_are_kept_but_never_those_between_members():
    room = HistRoom()
    a, b = room.add_with("ana"), room.add_with("bia")
    room.settle()
    a.private("bia", "segredo")
    room.settle()
    room.server.say_to("ana", "do operador", room.now)
    a.private("server", "para o operador")
    room.settle()
    privates = room.store.privates_for("ana", 0, 10)
    assert [(p.sender, p.to_name, p.text) for p in privates] == [
        ("server", "ana", "do operador"), ("ana", "server", "para o operador")]
    assert room.store.privates_for("bia", 0, 10) == []


def test_fetches_are_refused_over_the_members_rate_and_asked_again_after_the_wait():
    room = HistRoom(last_lines=30, limits=Limits(line_rate=1e9, line_burst=10**9, fetch_rate=0.5, fetch_burst=1))
    a = room.add_with("ana", replay=5)
    room.settle()
    first = blocks(drain(a))
    assert texts(first[0]) == [f"old {i}" for i in range(25, 30)]
    for _ in range(2):
        a.load_older(room.now)
    room.settle()
    assert blocks(drain(a)) == []                        # refused for the rate: waiting, not lost
    assert room.server.counters["fetch_limited"] == 1
    room.advance(2.5)
    (older,) = blocks(drain(a))
    assert older.kind == "older" and texts(older) == [f"old {i}" for i in range(0, 25)][-100:]


def test_the_rooms_own_rate_refuses_without_spending_the_members_token():
    room = HistRoom(last_lines=10, limits=Limits(line_rate=1e9, line_burst=10**9, fetches_rate=0.1,
                                                 fetches_burst=1))
    a = room.add_with("ana", replay=3)
    room.settle()
    assert len(blocks(drain(a))) == 1                    # the room's one token
    b = room.add_with("bia", replay=3)
    room.settle()
    assert blocks(drain(b)) == []
    (mem,) = [x for x in room.server._roster if x.name == "bia"]
    assert mem.fetches.tokens == pytest.approx(Limits().fetch_burst, abs=0.01)
    room.advance(11)
    assert texts(blocks(drain(b))[0]) == ["old 7", "old 8", "old 9"]


def test_a_page_is_cut_to_its_byte_cap_from_the_far_side_and_the_cut_is_counted():
    long = "x" * 8000
    room = HistRoom()
    for i in range(20):
        room.store.append([_line(i + 1, f"{i:02d}" + long, room.wall)])
    room.server._room.seq = 20
    a = room.add_with("ana", replay=20)
    room.settle()
    (block,) = blocks(drain(a))
    n = len(block.lines)
    assert n == PAGE_BYTES // (8002 + 4 + 13 + 3)
    assert [x.seq for x in block.lines] == list(range(21 - n, 21))       # the newest kept
    assert block.more == 20 - n


def test_a_fetch_asks_for_at_most_a_page():
    room = HistRoom(last_lines=PAGE_LINES + 20)
    a = room.add_with("ana", replay=0)
    room.settle()
    a._ask("older", Fetch(0, 0, 0, 60000, False))
    room.settle()
    (block,) = blocks(drain(a))
    assert len(block.lines) == PAGE_LINES and block.more == 20


def test_without_a_history_a_fetch_gets_an_empty_page():
    room = Room(limits=UNLIMITED)
    a = room.add("ana")
    room.settle()
    a._ask("older", Fetch(0, 0, 0, 10, True))
    room.settle()
    assert blocks(drain(a)) == [ev.HistoryLines("older", (), 0, True)]


# --- the client's side -------------------------------------------------------------------------

def test_a_newcomer_sees_the_last_lines_as_earlier_then_the_live_ones():
    room = HistRoom(last_lines=10)
    a = room.add_with("ana", replay=3)
    room.settle()
    b = room.add_with("bia")
    room.settle()
    room.say(b, "ao vivo")
    events = drain(a)
    kinds = [type(e).__name__ for e in events if not isinstance(e, (ev.MemberJoined, ev.MemberList))]
    assert kinds[:4] == ["Connected", "InRoom", "HistoryLines", "RoomLine"]
    (block,) = blocks(events)
    assert block.kind == "earlier" and block.done and block.more == 7
    assert texts(block) == ["old 7", "old 8", "old 9"] and [x.seq for x in block.lines] == [8, 9, 10]
    assert a.last_seq == 11 and a.room_id == room.store.room_id


def test_replay_zero_shows_nothing_earlier():
    room = HistRoom(last_lines=10)
    a = room.add_with("ana", replay=0)
    room.settle()
    assert blocks(drain(a)) == []


def test_an_empty_room_replays_nothing():
    room = HistRoom()
    a = room.add_with("ana")
    room.settle()
    assert blocks(drain(a)) == []


def test_a_returning_client_gets_only_what_it_lacks_capped_then_scrolls_back_through_the_gap():
    room = HistRoom(last_lines=12)
    a = room.add_with("ana", room_id=room.store.room_id, last_seq=4, oldest_seq=1, catch_up=3)
    room.settle()
    (missed,) = blocks(drain(a))
    assert missed.kind == "missed" and [x.seq for x in missed.lines] == [10, 11, 12] and missed.more == 5
    a.load_older(room.now)
    room.settle()
    (gap,) = blocks(drain(a))
    assert gap.kind == "older" and [x.seq for x in gap.lines] == [5, 6, 7, 8, 9] and gap.more == 0
    a.load_older(room.now)                  # below the gap: what our own copy holds begins at 1
    room.settle()
    assert blocks(drain(a)) == [ev.HistoryLines("older", (), 0, True)]


def test_scrolling_back_pages_the_room_until_its_first_line():
    room = HistRoom(last_lines=250)
    a = room.add_with("ana", replay=20)
    room.settle()
    drain(a)
    seen: list[int] = []
    for _ in range(5):
        a.load_older(room.now)
        room.settle()
        for b in blocks(drain(a)):
            assert b.kind == "older"
            seen = [x.seq for x in b.lines] + seen
    assert seen == list(range(1, 231))


def test_one_older_page_at_a_time():
    room = HistRoom(last_lines=50)
    a = room.add_with("ana", replay=5)
    room.settle()
    drain(a)
    a.load_older(room.now)
    a.load_older(room.now)
    room.settle()
    assert len(blocks(drain(a))) == 1


def test_a_script_catches_up_every_line_page_after_page_in_order():
    n = 2 * PAGE_LINES + 37
    room = HistRoom(last_lines=n + 3)
    a = room.add_with("ana", room_id=room.store.room_id, last_seq=3, catch_up=None)
    room.settle()
    pages = blocks(drain(a))
    assert [len(p.lines) for p in pages] == [PAGE_LINES, PAGE_LINES, 37]
    assert [p.done for p in pages] == [False, False, True] and {p.kind for p in pages} == {"missed"}
    assert [x.seq for p in pages for x in p.lines] == list(range(4, n + 4))


def test_nothing_missed_means_no_block():
    room = HistRoom(last_lines=5)
    a = room.add_with("ana", room_id=room.store.room_id, last_seq=5)
    room.settle()
    assert blocks(drain(a)) == []
    assert not a._holding


def test_another_room_at_the_same_address_replays_as_for_a_newcomer():
    room = HistRoom(last_lines=5)
    a = room.add_with("ana", room_id="0123456789abcdef", last_seq=900, replay=2)
    room.settle()
    (block,) = blocks(drain(a))
    assert block.kind == "earlier" and [x.seq for x in block.lines] == [4, 5]
    b = room.add_with("bia")
    room.settle()
    room.say(b, "nova")
    assert [e.text for e in drain(a) if isinstance(e, ev.RoomLine)] == ["nova"]    # 6 is live, not "had"


def test_live_lines_wait_behind_the_catch_up_and_come_once_in_order():
    room = HistRoom(last_lines=6)
    b = room.add_with("bia")
    room.settle()
    room.hold_fetches = True
    a = room.add_with("ana", room_id=room.store.room_id, last_seq=2)
    room.settle()
    room.say(b, "live 1", "live 2")
    early = drain(a)
    assert not any(isinstance(e, ev.RoomLine) for e in early)
    assert any(isinstance(e, ev.MemberList) for e in early)        # the list is state: never held
    room.hold_fetches = False
    room.settle()
    later = drain(a)
    order = [("H", tuple(texts(e))) if isinstance(e, ev.HistoryLines) else ("L", e.text)
             for e in later if isinstance(e, (ev.HistoryLines, ev.RoomLine))]
    assert order == [("H", ("old 2", "old 3", "old 4", "old 5")), ("L", "live 1"), ("L", "live 2")]


def test_a_line_already_had_is_dropped_and_counted():
    room = HistRoom(last_lines=3)
    a = room.add_with("ana", replay=0)
    room.settle()
    drain(a)
    a._emit(ev.RoomLine(3, "ana", "again"))
    a._emit(ev.RoomLine(4, "ana", "new"))
    a._emit(ev.RoomLine(0, "ana", "private", private_to="bia"))
    assert [e.text for e in drain(a)] == ["new", "private"] and a.duplicates == 1


def test_an_answer_to_no_question_is_ignored():
    room = HistRoom(last_lines=3)
    a = room.add_with("ana", replay=0)
    room.settle()
    before = a.ignored
    a._server_message(History(999, ()), room.now)
    assert a.ignored == before + 1 and blocks(drain(a)) == []


# --- a restarted room ---------------------------------------------------------------------------

def test_members_coming_back_to_a_restarted_room_are_told_as_one_line():
    room = HistRoom(last_lines=3)
    clients = [room.add_with(n, replay=0) for n in ("ana", "bia", "caio")]
    room.settle()
    for c in clients:
        assert not any(isinstance(e, ev.MemberJoined) for e in drain(c))
    assert not any(isinstance(e, ev.MemberJoined) for e in drain(room.server))
    room.advance(2.5)
    for c in clients:
        assert [e for e in drain(c) if isinstance(e, ev.MembersBack)] == [ev.MembersBack(3)]
    assert [e for e in drain(room.server) if isinstance(e, ev.MembersBack)] == [ev.MembersBack(3)]
    late = room.add_with("dani", replay=0)
    room.settle()
    assert [e.name for e in drain(clients[0]) if isinstance(e, ev.MemberJoined)] == ["dani"]
    assert late.state is State.JOINED


def test_the_gathering_ends_with_its_window_even_while_members_keep_coming():
    room = HistRoom(last_lines=3)
    for i in range(int(BACK_WINDOW) + 2):
        room.add_with(f"m{i}", replay=0)
        room.advance(1.0)
    told = [e for e in drain(room.server) if isinstance(e, (ev.MembersBack, ev.MemberJoined))]
    n = int(BACK_WINDOW)               # one a second from the start: the window's 30, then named ones
    assert told == [ev.MembersBack(n), *[ev.MemberJoined(f"m{i}", f"127.0.0.1:{40000 + i}") for i in (n, n + 1)]]
    assert not room.server._room.gathering


def test_a_new_room_does_not_gather():
    room = HistRoom()
    a, b = room.add_with("ana"), room.add_with("bia")
    room.settle()
    assert [e.name for e in drain(a) if isinstance(e, ev.MemberJoined)] == ["bia"]


# --- a room that closes and opens again --------------------------------------------------------

def test_a_window_waits_for_a_closed_room_and_rejoins_with_what_it_missed():
    room = HistRoom(last_lines=2)
    a = room.add_with("ana", rejoin=True)
    room.settle()
    room.server.close(room.now)
    room.advance(1.0)
    events = drain(a)
    assert any(isinstance(e, ev.ServerClosed) for e in events)
    assert a.state is State.RECONNECTING and a.room_closed
    # The same room restarts (same store) and goes on talking before ana is back.
    room.store.append([_line(3, "said while closed", room.wall)])
    room.server = ServerEngine(room.now, randbytes=room.rng.randbytes, limits=UNLIMITED,
                               room_id=room.store.room_id, last_seq=room.store.last_seq())
    room.history = RoomHistory(room.store, room.server, room.problems.append, clock=lambda: room.wall)
    room.advance(6.0)
    events = drain(a)
    assert ev.Reconnected(resumed=False) in events
    (missed,) = blocks(events)
    assert missed.kind == "missed" and texts(missed) == ["said while closed"]
    assert a.state is State.JOINED and not a.room_closed


def test_join_again_tries_at_once():
    room = HistRoom()
    a = room.add_with("ana", rejoin=True)
    room.settle()
    room.server.close(room.now)
    room.advance(1.0)
    room.drop = lambda data, src, dst: True
    room.advance(20.0)                   # the HELLO pace has backed off to seconds
    due = a._join.due
    a.rejoin_now(room.now)
    assert a._join.due == room.now < due


def test_without_rejoin_the_engine_stops_when_the_room_closes():
    room = HistRoom()
    a = room.add_with("ana")
    room.settle()
    room.server.close(room.now)
    room.advance(1.0)
    assert a.state is State.CLOSED


def test_leaving_while_waiting_for_a_closed_room_stops_at_once():
    room = HistRoom()
    a = room.add_with("ana", rejoin=True)
    room.settle()
    room.server.close(room.now)
    room.advance(1.0)
    a.leave(room.now)
    assert a.state is State.CLOSED


def test_a_history_message_from_the_server_is_never_mistaken_for_a_line():
    for msg in (m.RoomInfo("ab", 3), m.History(1, ()), m.Back(2)):
        assert type(m.decode_msg(m.encode_msg(msg))) is type(msg)
