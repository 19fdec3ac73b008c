"""The room's history in the engines, without sockets: replay, catch-up, paging, gathering.

The server's store is a real in-memory HistoryStore behind the transport's own glue
(udpnet.room_history.RoomHistory), driven between the engines' turns exactly where
the socket thread drives it: after the datagrams came in, before any go out, and
after they went out.
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
from udpcore.room import BACK_QUIET
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
        if not self.hold_fetches:
            self.history.after_send(self.now)
        return moved

    def _turn(self) -> None:
        if self.hold_fetches:
            said = self.server.take_said()
            self.store.append([_line(s.seq, s.text, self.wall, s.sender) for s in said if s.seq])
        else:
            self.history.before_send(self.now)

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


def test_numbering_continues_from_the_store_and_every_line_is_journalled_before_it_is_sent(tmp_path):
    """A file store: each turn's lines are in the journal before the turn's datagrams
    are built, and in SQLite by the end of the turn."""
    from udpnet.journal import Journal
    store = HistoryStore.open(tmp_path, now=1_800_000_000.0)
    for i in range(7):
        store.append([_line(i + 1, f"old {i}", 1_800_000_000.0)])
    room = HistRoom(store=store)
    a = room.add_with("ana")
    room.settle()
    drain(a)
    turns: list[list] = []           # per turn: numbers in the journal, SQLite's last before and after the sends
    real_before, real_after = room.history.before_send, room.history.after_send

    def before(now):
        real_before(now)
        turns.append([{r[0] for r in Journal(tmp_path).read()}, store.last_seq(), None])

    def after(now):
        real_after(now)
        turns[-1][2] = store.last_seq()
    room.history.before_send, room.history.after_send = before, after
    try:
        room.say(a, "eight", "nine")
        lines = [e for e in drain(a) if isinstance(e, ev.RoomLine)]
        assert [x.seq for x in lines] == [8, 9]
        assert [x.text for x in store.after(7, 10)] == ["eight", "nine"]
        for seq in (8, 9):
            journalled, before_sends, after_sends = next(t for t in turns if seq in t[0])
            assert before_sends < seq <= after_sends      # in the journal before the sends, in SQLite after
    finally:
        store.close()


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
    a._ask("older", 0, 0, 60000, False)
    room.settle()
    (block,) = blocks(drain(a))
    assert len(block.lines) == PAGE_LINES and block.more == 20


def test_without_a_history_a_fetch_gets_an_empty_page():
    room = Room(limits=UNLIMITED)
    a = room.add("ana")
    room.settle()
    a._ask("older", 0, 0, 10, True)
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
    room.advance(BACK_QUIET - 0.5)
    assert not any(isinstance(e, ev.MembersBack) for e in drain(clients[0]))   # an idle one may still come
    room.advance(1.0)
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


# --- edges: what each field and boundary does ----------------------------------------------------

def count_fetches(room: HistRoom) -> list[tuple[int, int, int, bool]]:
    """Record every page the server reads: (after, before, limit, newest)."""
    asked: list[tuple[int, int, int, bool]] = []
    real = room.history.page

    def page(after, before, limit, newest):
        asked.append((after, before, limit, newest))
        return real(after, before, limit, newest)
    room.history.page = page
    return asked


def test_a_replayed_line_keeps_its_time_sender_and_action():
    room = HistRoom()
    from udpnet.history import StoredLine
    room.store.append([StoredLine(1, 1_700_000_000.5, "bia", "acena", 1), StoredLine(2, 1_700_000_001.0, "caio", "oi")])
    room.server._room.seq = 2
    a = room.add_with("ana")
    room.settle()
    events = drain(a)
    assert ev.InRoom(room.store.room_id, 2) in events
    (block,) = blocks(events)
    assert block.lines == (ev.HistoryLine(1, 1_700_000_000.5, "bia", "acena", True),
                           ev.HistoryLine(2, 1_700_000_001.0, "caio", "oi", False))


def test_no_fetch_is_made_when_there_is_nothing_to_ask():
    room = HistRoom(last_lines=5)
    asked = count_fetches(room)
    room.add_with("ana", room_id=room.store.room_id, last_seq=5)          # nothing missed
    room.add_with("bia", replay=0)                                          # no replay wanted
    room.settle()
    assert asked == []
    empty = HistRoom()
    asked = count_fetches(empty)
    empty.add_with("caio")                                                  # nothing said yet
    empty.settle()
    assert asked == []


def test_the_same_room_with_nothing_of_it_is_a_newcomers_replay():
    room = HistRoom(last_lines=4)
    a = room.add_with("ana", room_id=room.store.room_id, last_seq=0, replay=2)
    room.settle()
    (block,) = blocks(drain(a))
    assert block.kind == "earlier" and [x.seq for x in block.lines] == [3, 4]


@pytest.mark.parametrize("kw", [dict(replay=3), dict(last_seq=2), dict(last_seq=2, catch_up=None)],
                         ids=["earlier", "missed", "missed-script"])
def test_a_line_said_while_the_page_is_on_its_way_is_shown_once_live(kw):
    room = HistRoom(last_lines=6)
    b = room.add_with("bia")
    room.settle()
    room.hold_fetches = True
    if "last_seq" in kw:
        kw["room_id"] = room.store.room_id
    a = room.add_with("ana", **kw)
    room.settle()
    room.say(b, "live")                   # stored as 7 before the page is read
    room.hold_fetches = False
    room.settle()
    got = [x.seq for e in drain(a) for x in (e.lines if isinstance(e, ev.HistoryLines) else
                                              (e,) if isinstance(e, ev.RoomLine) else ())]
    assert got == list(range(got[0], 8)) and got[-1] == 7


def test_scrolling_back_after_no_replay_starts_at_the_last_line():
    room = HistRoom(last_lines=150)
    a = room.add_with("ana", replay=0)
    room.settle()
    a.load_older(room.now)
    room.settle()
    (older,) = blocks(drain(a))
    assert [x.seq for x in older.lines] == list(range(51, 151)) and older.more == 50


def test_scrolling_back_reaches_line_one_and_then_asks_no_more():
    room = HistRoom(last_lines=3)
    asked = count_fetches(room)
    a = room.add_with("ana", replay=2)
    room.settle()
    a.load_older(room.now)
    room.settle()
    assert [x.seq for b in blocks(drain(a)) for x in b.lines] == [2, 3, 1]
    n = len(asked)
    a.load_older(room.now)
    room.settle()
    assert blocks(drain(a)) == [ev.HistoryLines("older", (), 0, True)] and len(asked) == n


def test_a_full_replay_leaves_nothing_older_to_ask_for():
    room = HistRoom(last_lines=3)
    asked = count_fetches(room)
    a = room.add_with("ana", replay=10)
    room.settle()
    n = len(asked)
    a.load_older(room.now)
    room.settle()
    assert blocks(drain(a))[-1] == ev.HistoryLines("older", (), 0, True) and len(asked) == n


def test_an_older_page_that_reaches_the_start_ends_the_scrolling():
    room = HistRoom(last_lines=120)
    asked = count_fetches(room)
    a = room.add_with("ana", replay=20)
    room.settle()
    a.load_older(room.now)           # 100 lines: 1..100, more 0
    room.settle()
    assert blocks(drain(a))[-1].more == 0
    n = len(asked)
    a.load_older(room.now)
    room.settle()
    assert blocks(drain(a)) == [ev.HistoryLines("older", (), 0, True)] and len(asked) == n


def test_after_the_gap_scrolling_goes_on_below_our_own_copy_down_to_line_one():
    room = HistRoom(last_lines=12)
    a = room.add_with("ana", room_id=room.store.room_id, last_seq=4, oldest_seq=3, catch_up=3)
    room.settle()
    drain(a)
    a.load_older(room.now)          # the gap 5..9
    room.settle()
    a.load_older(room.now)          # below what our copy holds (3..4): 1..2
    room.settle()
    assert [[x.seq for x in b.lines] for b in blocks(drain(a))] == [[5, 6, 7, 8, 9], [1, 2]]


def test_a_pending_older_page_is_asked_again_on_a_new_session():
    room = HistRoom(last_lines=150)
    a = room.add_with("ana", replay=5, rejoin=True)
    room.settle()
    drain(a)
    room.hold_fetches = True
    a.load_older(room.now)
    room.settle()
    room.server.close(room.now)      # the page never comes on this session
    room.advance(1.0)
    room.server = ServerEngine(room.now, randbytes=room.rng.randbytes, limits=UNLIMITED,
                               room_id=room.store.room_id, last_seq=room.store.last_seq())
    room.history = RoomHistory(room.store, room.server, room.problems.append, clock=lambda: room.wall)
    room.hold_fetches = False
    room.advance(6.0)
    events = drain(a)
    assert a.room_closed is False and a.state is State.JOINED
    (older,) = [b for b in blocks(events) if b.kind == "older"]
    assert [x.seq for x in older.lines] == list(range(46, 146))       # the newest page below, again


def test_no_older_page_while_waiting_for_the_room():
    room = HistRoom(last_lines=30)
    a = room.add_with("ana", replay=5, rejoin=True)
    room.settle()
    room.server.close(room.now)
    room.advance(1.0)
    drain(a)
    a.load_older(room.now)
    assert drain(a) == [ev.HistoryLines("older", (), 0, True)] and a._asked == {}


def test_duplicates_and_strays_are_each_counted():
    room = HistRoom(last_lines=3)
    a = room.add_with("ana", replay=0)
    room.settle()
    drain(a)
    for _ in range(2):
        a._emit(ev.RoomLine(2, "ana", "again"))
        a._server_message(History(999, ()), room.now)
    ignored = a.ignored
    a._server_message(History(998, ()), room.now)
    assert a.duplicates == 2 and a.ignored == ignored + 1


def test_script_pages_say_nothing_is_beyond_them():
    room = HistRoom(last_lines=PAGE_LINES + 10)
    a = room.add_with("ana", room_id=room.store.room_id, last_seq=5, catch_up=None)
    room.settle()
    assert [(p.more, p.done) for p in blocks(drain(a))] == [(0, False), (0, True)]


def test_a_script_catch_up_whose_last_page_came_back_empty_is_still_closed():
    room = HistRoom(last_lines=10)
    room.hold_fetches = True
    a = room.add_with("ana", room_id=room.store.room_id, last_seq=2, catch_up=None)
    room.settle()
    ((token, asked),) = a._asked.items()
    a._server_message(History(token, (m.PastLine(3, 1.0, "x", "y"),), more=5), room.now)
    ((token2, _),) = a._asked.items()
    a._server_message(History(token2, ()), room.now)         # the rest forgotten meanwhile
    got = [(b.kind, len(b.lines), b.done) for b in blocks(drain(a))]
    assert got == [("missed", 1, False), ("missed", 0, True)] and not a._holding


def test_a_refused_page_is_asked_again_exactly_when_the_wait_is_over():
    room = HistRoom(last_lines=10)
    room.hold_fetches = True
    a = room.add_with("ana", replay=3)
    room.settle()
    ((token, asked),) = a._asked.items()
    a._server_message(History(token, (), 0, 2), room.now)
    retry = room.now + 2
    assert a._asked[token].retry_at == retry and a.get_timer() <= retry
    a._past_due(retry - 0.001)
    assert a._asked[token].retry_at == retry
    a._past_due(retry)
    assert a._asked[token].retry_at is None and a._past_timer() is None


def test_tokens_wrap_within_u32_and_never_reach_zero():
    room = HistRoom(last_lines=10)
    a = room.add_with("ana", replay=0)
    room.settle()
    a._next_token = 0xFFFFFFFF
    a._ask("older", 0, 5, 2, True)
    a._ask("older", 0, 3, 1, True)
    assert sorted(a._asked) == [1, 0xFFFFFFFF]
    room.settle()
    assert len(blocks(drain(a))) == 2


def test_a_catch_up_of_one_still_asks_for_one_line():
    room = HistRoom(last_lines=10)
    a = room.add_with("ana", room_id=room.store.room_id, last_seq=3, catch_up=0)
    room.settle()
    (b,) = blocks(drain(a))
    assert [x.seq for x in b.lines] == [10] and b.more == 6


# --- the server's edges ------------------------------------------------------------------------

def test_a_room_that_ran_one_line_before_gathers_its_members():
    room = HistRoom(last_lines=1)
    assert room.server._room.gathering


def test_a_page_of_a_member_that_left_is_not_sent():
    room = HistRoom(last_lines=10)
    room.hold_fetches = True
    a = room.add_with("ana", replay=3)
    room.settle()
    asks = room.server.take_fetches()
    (mem,) = [x for x in room.server._roster if x.name == "ana"]
    room.server._room.remove(mem, m.LeaveReason.LEFT)
    room.server.answer_fetch(asks[0], [m.PastLine(1, 1.0, "x", "y")], 0)
    assert not mem.peer.channel.has_output() or room.server._dirty == set()


def test_an_oldest_first_page_keeps_its_oldest_lines_when_cut():
    room = HistRoom()
    long = "y" * 8000
    for i in range(12):
        room.store.append([_line(i + 1, long, room.wall)])
    room.server._room.seq = 12
    a = room.add_with("ana", room_id=room.store.room_id, last_seq=0, replay=0)
    room.settle()
    a._ask("missed", 0, 13, 12, False, continued=True)
    room.settle()
    assert [[x.seq for x in b.lines] for b in blocks(drain(a))] == [[1, 2, 3, 4, 5, 6, 7], [8, 9, 10, 11, 12]]


def test_a_page_that_fits_exactly_is_not_cut():
    from udpcore.pastmsg import page_size
    room = HistRoom()
    texts_ = ["z" * 8000] * 7
    used = sum(page_size(m.PastLine(1, 0.0, "ana", t)) for t in texts_)
    texts_.append("z" * (PAGE_BYTES - used - page_size(m.PastLine(1, 0.0, "ana", ""))))
    for i, t in enumerate(texts_):
        room.store.append([_line(i + 1, t, room.wall)])
    room.server._room.seq = len(texts_)
    a = room.add_with("ana", replay=8)
    room.settle()
    (b,) = blocks(drain(a))
    assert len(b.lines) == 8 and b.more == 0


def test_refusals_for_the_rate_are_counted_each_and_say_at_least_a_second():
    room = HistRoom(last_lines=10, limits=Limits(line_rate=1e9, line_burst=10**9, fetch_rate=100.0, fetch_burst=1))
    room.hold_fetches = True
    a = room.add_with("ana", replay=0)
    room.settle()
    a._ask("older", 0, 5, 2, True)
    a._ask("older", 0, 5, 2, True)
    a._ask("older", 0, 5, 2, True)
    room.step()
    assert room.server.counters["fetch_limited"] == 2
    waits = [x.retry_at - room.now for x in a._asked.values() if x.retry_at is not None]
    assert waits == [1, 1]


def test_a_fetch_of_no_lines_reads_none():
    room = HistRoom(last_lines=10)
    asked = count_fetches(room)
    a = room.add_with("ana", replay=0)
    room.settle()
    a._ask("older", 0, 5, 0, True)
    room.settle()
    assert asked == [(0, 5, 0, True)] and blocks(drain(a)) == [ev.HistoryLines("older", (), 0, True)]


def test_the_gathering_window_is_forgotten_when_it_is_over():
    room = HistRoom(last_lines=3)
    room.add_with("ana", replay=0)
    room.advance(BACK_WINDOW + 1)
    assert not room.server._room.gathering and room.server._back_until is None


# --- the codecs' edges ----------------------------------------------------------------------------

from hypothesis import given, settings, strategies as st  # noqa: E402

from udpcore.errors import ProtocolError  # noqa: E402
from udpcore.pastmsg import ROOM_ID_BYTES  # noqa: E402


def test_a_room_id_longer_than_its_cap_is_refused_both_ways():
    m.encode_msg(m.RoomInfo("a" * ROOM_ID_BYTES, 1))
    with pytest.raises(ValueError):
        m.encode_msg(m.RoomInfo("a" * (ROOM_ID_BYTES + 1), 1))
    forged = bytes([m.MsgType.ROOM]) + (ROOM_ID_BYTES + 1).to_bytes(2, "big") + b"a" * (ROOM_ID_BYTES + 1) + bytes(4)
    with pytest.raises(ProtocolError):
        m.decode_msg(forged)


def test_a_sender_name_longer_than_a_name_is_refused():
    from udpcore.wire import NAME_LIMIT
    with pytest.raises(ValueError):
        m.encode_msg(m.History(1, (m.PastLine(1, 0.0, "n" * (NAME_LIMIT + 1), "t"),)))


def test_counts_are_clamped_to_their_fields():
    big = 1 << 40
    assert m.decode_msg(m.encode_msg(m.Fetch(1, 2, 3, big, True))).limit == 0xFFFF
    back = m.decode_msg(m.encode_msg(m.History(1, (), big, big)))
    assert (back.more, back.wait) == (0xFFFFFFFF, 0xFFFF)
    assert m.decode_msg(m.encode_msg(m.Back(big))).count == 0xFFFFFFFF
    assert m.decode_msg(m.encode_msg(m.RoomInfo("r", big))).last_seq == 0xFFFFFFFF
    assert m.encode_msg(m.Back(1)) == b"\x22\x00\x00\x00\x01"
    assert m.encode_msg(m.RoomInfo("r", 1))[-4:] == b"\x00\x00\x00\x01"


def test_a_fetch_flag_other_than_0_or_1_is_malformed():
    good = m.encode_msg(m.Fetch(1, 2, 3, 4, True))
    assert m.decode_msg(good[:-1] + b"\x00").newest is False
    with pytest.raises(ProtocolError):
        m.decode_msg(good[:-1] + b"\x02")


def test_a_history_page_longer_than_a_page_or_with_a_bad_time_is_malformed():
    one = m.encode_msg(m.History(1, (m.PastLine(1, 5.0, "a", "b"),)))
    head = bytes([m.MsgType.HISTORY]) + (1).to_bytes(4, "big") + bytes(4) + bytes(2)
    body = one[len(head) + 2:]
    m.decode_msg(head + PAGE_LINES.to_bytes(2, "big") + body * PAGE_LINES)
    with pytest.raises(ProtocolError):
        m.decode_msg(head + (PAGE_LINES + 1).to_bytes(2, "big") + body * (PAGE_LINES + 1))
    for bad in (float("inf"), float("nan")):
        raw = m.encode_msg(m.History(1, (m.PastLine(1, bad, "a", "b"),)))
        with pytest.raises(ProtocolError):
            m.decode_msg(raw)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from([m.MsgType.FETCH, m.MsgType.ROOM, m.MsgType.HISTORY, m.MsgType.BACK]), st.binary(max_size=300))
def test_the_history_decoders_raise_only_protocol_errors(kind, body):
    try:
        msg = m.decode_msg(bytes([kind]) + body)
    except ProtocolError:
        return
    assert m.decode_msg(m.encode_msg(msg)) == msg      # whatever decodes, encodes back the same


def test_scrolling_back_before_joining_asks_nothing():
    room = HistRoom(last_lines=5)
    room.hold_fetches = True
    a = ClientEngine("ana", SERVER, room.now, oldest_seq=3, last_seq=5, room_id="ab")
    a.load_older(room.now)
    assert drain(a) == [ev.HistoryLines("older", (), 0, True)] and a._asked == {}


def test_with_nothing_missed_scrolling_goes_below_our_copy_down_to_line_one():
    room = HistRoom(last_lines=12)
    a = room.add_with("ana", room_id=room.store.room_id, last_seq=10, oldest_seq=5)
    room.settle()
    assert [x.seq for x in blocks(drain(a))[0].lines] == [11, 12]
    a.load_older(room.now)
    room.settle()
    assert [x.seq for x in blocks(drain(a))[0].lines] == [1, 2, 3, 4]


def test_a_copy_that_begins_at_line_one_has_nothing_older_to_ask_for():
    room = HistRoom(last_lines=5)
    asked = count_fetches(room)
    a = room.add_with("ana", room_id=room.store.room_id, last_seq=5, oldest_seq=1)
    room.settle()
    a.load_older(room.now)
    room.settle()
    assert blocks(drain(a)) == [ev.HistoryLines("older", (), 0, True)] and asked == []


def test_a_copy_holding_only_line_one_is_the_same_room_not_a_newcomer():
    room = HistRoom(last_lines=5)
    a = room.add_with("ana", room_id=room.store.room_id, last_seq=1, replay=2)
    room.settle()
    (b,) = blocks(drain(a))
    assert b.kind == "missed" and [x.seq for x in b.lines] == [2, 3, 4, 5]


def test_scrolling_back_never_brings_a_line_that_came_live():
    room = HistRoom(last_lines=10)
    a = room.add_with("ana", replay=0)
    b = room.add_with("bia", replay=0)
    room.settle()
    room.say(b, "ao vivo")                  # 11, live
    drain(a)
    a.load_older(room.now)
    room.settle()
    assert [x.seq for x in blocks(drain(a))[0].lines] == list(range(1, 11))


def test_a_replay_that_reaches_the_oldest_kept_line_leaves_nothing_to_ask():
    room = HistRoom()
    for i in range(5, 8):                   # lines 1-4 were forgotten by age
        room.store.append([_line(i, f"l{i}", room.wall)], gaps=True)
    room.server._room.seq = 7
    asked = count_fetches(room)
    a = room.add_with("ana", replay=10)
    room.settle()
    (b,) = blocks(drain(a))
    assert [x.seq for x in b.lines] == [5, 6, 7] and b.more == 0
    n = len(asked)
    a.load_older(room.now)
    room.settle()
    assert len(asked) == n


def test_a_newest_first_page_is_cut_from_its_oldest_end_whatever_their_sizes():
    room = HistRoom()
    sizes = [10] * 30 + [8000] * 8          # small old lines, big new ones
    for i, n in enumerate(sizes):
        room.store.append([_line(i + 1, "w" * n, room.wall)])
    room.server._room.seq = len(sizes)
    a = room.add_with("ana", replay=len(sizes))
    room.settle()
    (b,) = blocks(drain(a))
    assert [x.seq for x in b.lines] == list(range(32, 39)) and b.more == 31


def test_page_size_is_what_a_line_adds_to_the_encoded_page():
    from udpcore.pastmsg import page_size
    lines = (m.PastLine(1, 1.0, "ana", "oi"), m.PastLine(2, 2.0, "jo\u00e3o", "a\u00e7\u00e3o" * 9))
    empty = len(m.encode_msg(m.History(1, ())))
    assert len(m.encode_msg(m.History(1, lines))) == empty + sum(page_size(x) for x in lines)


# --- a line sent again after the server went down ------------------------------------------------

def _restart(room: HistRoom) -> None:
    room.server = ServerEngine(room.now, randbytes=room.rng.randbytes, limits=UNLIMITED,
                               room_id=room.store.room_id, last_seq=room.store.last_seq(),
                               known=room.store.recent_origins(100))
    room.history = RoomHistory(room.store, room.server, room.problems.append, clock=lambda: room.wall)


def test_a_line_the_server_stored_before_it_went_down_is_not_relayed_twice():
    room = HistRoom()
    a = room.add_with("ana")
    b = room.add_with("bia")
    room.settle()
    drain(a), drain(b)
    room.drop = lambda data, src, dst: dst == room.addr_of(a)     # ana hears nothing back...
    mid = a.say("uma vez")
    room.settle()                                                 # ...but the room has her line
    assert [x.text for x in room.store.after(0, 10)] == ["uma vez"]
    _restart(room)
    room.drop = lambda data, src, dst: False
    room.advance(12.0)                       # ana sends it again on her new session
    assert room.server.counters["sent_again"] == 1
    assert [x.text for x in room.store.after(0, 10)] == ["uma vez"]          # stored once
    events = drain(a)
    mine = [e for e in events if isinstance(e, ev.RoomLine) and e.own]
    assert [(e.seq, e.msg_id, e.text) for e in mine] == [(1, mid, "uma vez")]   # delivered, once
    shown = [x.text for e in events if isinstance(e, ev.HistoryLines) for x in e.lines]
    assert "uma vez" not in shown
    assert [e.text for e in drain(b) if isinstance(e, ev.RoomLine)] == ["uma vez"]


def test_a_catch_up_marks_only_the_askers_own_lines():
    room = HistRoom()
    a, b = room.add_with("ana"), room.add_with("bia")
    room.settle()
    a.say("da ana")
    mid = b.say("da bia")
    room.settle()
    c = room.add_with("caio", replay=0)
    room.settle()
    pages: dict[str, list] = {}
    real = room.server._room.send

    def send(mem, msg):
        if isinstance(msg, History):
            pages[mem.name] = list(msg.lines)
        real(mem, msg)
    room.server._room.send = send
    for who in (b, c):
        who._ask("older", 0, 0, 10, True)
    room.settle()
    own = m.LINE_OWN
    assert [(x.text, x.flags & own, x.msg_id) for x in pages["bia"]] == [("da ana", 0, 0), ("da bia", own, mid)]
    assert [(x.text, x.flags & own, x.msg_id) for x in pages["caio"]] == [("da ana", 0, 0), ("da bia", 0, 0)]


def test_an_own_line_already_confirmed_stays_in_its_block():
    room = HistRoom()
    a = room.add_with("ana")
    room.settle()
    a.say("confirmada")
    room.settle()
    drain(a)
    a._ask("older", 0, 0, 10, True)
    room.settle()
    (block,) = blocks(drain(a))
    assert [x.text for x in block.lines] == ["confirmada"]


def test_the_server_remembers_a_bounded_number_of_origins():
    from udpcore.past_service import KNOWN_ORIGINS
    known = [(b"o" * 8, i, i) for i in range(KNOWN_ORIGINS + 5)]
    s = ServerEngine(0.0, room_id="ab", last_seq=len(known), known=known)
    assert len(s._known) == KNOWN_ORIGINS and (b"o" * 8, 0) not in s._known and (b"o" * 8, 5) in s._known


def test_a_burst_is_indexed_once_the_room_is_quiet_and_found_at_once_all_the_same():
    from udpnet import room_history
    room = HistRoom()
    a = room.add_with("ana")
    room.settle()
    room.say(a, "um café", "dois", "três")
    assert room.store.unindexed == 3                  # not indexed mid-burst: the relay never waits
    assert [x.text for x in room.store.search("cafe", 5)] == ["um café"]   # a search indexes first
    room.say(a, "quatro")
    assert room.store.unindexed == 1
    room.advance(room_history.INDEX_WHEN_QUIET + 0.2)
    assert room.store.unindexed == 0                  # a quiet second later


def test_a_long_burst_is_indexed_at_its_cap():
    from udpnet import room_history
    room = HistRoom()
    a = room.add_with("ana")
    room.settle()
    old = room_history.INDEX_AT_MOST
    room_history.INDEX_AT_MOST = 5
    try:
        room.say(a, *[f"linha {i}" for i in range(4)])
        assert room.store.unindexed == 4
        room.say(a, "quinta")
        assert room.store.unindexed == 0
    finally:
        room_history.INDEX_AT_MOST = old


def test_a_pending_line_the_catch_up_holds_is_confirmed_from_it_once_and_left_out_of_the_block():
    room = HistRoom(last_lines=3)
    room.hold_fetches = True
    a = room.add_with("ana", room_id=room.store.room_id, last_seq=1)
    room.settle()
    drain(a)
    a._unconfirmed.update({7, 8})
    a._pending_at_room = {7}                       # pending when the session began: 8 came later
    ((token, _),) = a._asked.items()
    lines = (m.PastLine(2, 50.0, "bia", "oi"),
             m.PastLine(3, 51.0, "ana", "acena", m.LINE_OWN | m.LINE_ACTION, 7),
             m.PastLine(4, 52.0, "ana", "outra", m.LINE_OWN, 8))
    a._server_message(History(token, lines), room.now)
    events = drain(a)
    assert events[0] == ev.RoomLine(3, "ana", "acena", True, None, True, 7, 51.0)
    (block,) = blocks(events)
    assert [x.seq for x in block.lines] == [2, 4]          # 8 was not pending at the start: shown
    assert a._unconfirmed == {8}


def test_an_old_echo_passes_only_for_a_line_still_pending():
    room = HistRoom(last_lines=5)
    a = room.add_with("ana", replay=0)
    room.settle()
    drain(a)
    a._unconfirmed.add(9)
    a._emit(ev.RoomLine(2, "ana", "minha", own=True, msg_id=9))      # ours, pending: confirmed
    a._emit(ev.RoomLine(3, "ana", "minha", own=True, msg_id=9))      # again: no longer pending
    a._emit(ev.RoomLine(4, "bia", "dela", own=False, msg_id=9))      # not ours
    assert [e.seq for e in drain(a)] == [2] and a.duplicates == 2 and a._unconfirmed == set()


def test_a_page_for_someone_without_an_origin_carries_no_message_ids():
    room = HistRoom()
    from udpnet.history import StoredLine
    room.store.append([StoredLine(1, 1.0, "ana", "x", 0, b"o" * 8, 5)])
    room.server._room.seq = 1
    a = room.add_with("bia", replay=0)
    room.settle()
    pages = []
    real = room.server._room.send
    room.server._room.send = lambda mem, msg: (pages.append(msg) if isinstance(msg, History) else None,
                                               real(mem, msg))
    a._ask("older", 0, 0, 5, True)
    room.settle()
    assert [(x.msg_id, x.flags) for x in pages[0].lines] == [(0, 0)]


# --- the transport's turn: journal first, SQLite after the sends ------------------------------

class TurnEngine:
    """What RoomHistory asks of the server engine, held by hand."""

    def __init__(self) -> None:
        self.said: list = []
        self.asks: list = []
        self.answers: list = []

    def take_said(self):
        said, self.said = self.said, []
        return said

    def take_fetches(self):
        asks, self.asks = self.asks, []
        return asks

    def answer_fetch(self, ask, lines, more):
        self.answers.append(([x.seq for x in lines], more))


def turn_of(tmp_path, store=None):
    from udpnet.journal import Journal
    store = store or HistoryStore.open(tmp_path, now=1_800_000_000.0)
    eng = TurnEngine()
    problems: list = []
    return store, eng, RoomHistory(store, eng, problems.append, clock=lambda: 1_800_000_000.0), \
        (lambda: [r[0] for r in Journal(tmp_path).read()]), problems


def test_room_lines_are_journalled_before_the_sends_and_stored_after_them(tmp_path):
    from udpcore.past_service import Said
    store, eng, hist, journalled, _ = turn_of(tmp_path)
    eng.said = [Said(1, "ana", "um", 0), Said(2, "bia", "dois", 0)]
    hist.before_send(1.0)
    assert store.last_seq() == 0 and journalled() == [1, 2]
    hist.after_send(1.0)
    assert [x.text for x in store.after(0, 5)] == ["um", "dois"]
    hist.after_send(1.1)                                 # nothing waits: nothing stored twice
    assert store.last_seq() == 2
    store.close()


@pytest.mark.parametrize("why", ["private", "fetch", "no journal"])
def test_a_turn_stores_in_sqlite_before_its_sends_when_it_must(tmp_path, why):
    """A private line (never journalled), a FETCH (whose page must hold the turn's lines),
    a journal that cannot be written: the turn's lines are in SQLite before anything goes out."""
    from udpcore.past_service import FetchAsk, Said
    from udpcore.pastmsg import Fetch
    store, eng, hist, journalled, _ = turn_of(tmp_path)
    eng.said = [Said(1, "ana", "um", 0)]
    if why == "private":
        eng.said.append(Said(0, "server", "psiu", 0, private_to="ana"))
    elif why == "fetch":
        eng.asks = [FetchAsk(None, Fetch(7, 0, 0, 10, True))]      # type: ignore[arg-type]
    else:
        (tmp_path / "history.journal").mkdir()
    hist.before_send(1.0)
    assert store.last_seq() == 1
    if why == "fetch":
        assert eng.answers == [([1], 0)]
    if why == "private":
        assert [p.text for p in store.privates_for("ana", 0, 5)] == ["psiu"]
    if why != "no journal":
        assert journalled() == []
    hist.after_send(1.0)
    assert store.last_seq() == 1
    store.close()


def test_a_memory_store_takes_the_lines_after_the_sends():
    from udpcore.past_service import Said
    store = HistoryStore.in_memory(now=1_800_000_000.0)
    eng = TurnEngine()
    hist = RoomHistory(store, eng, lambda e: None, clock=lambda: 1_800_000_000.0)
    eng.said = [Said(1, "ana", "um", 0)]
    hist.before_send(1.0)
    assert store.last_seq() == 0
    hist.after_send(1.0)
    assert store.last_seq() == 1


def test_sqlite_refusing_journalled_lines_pauses_the_history(tmp_path):
    from tests.test_history_store import RefusingConnection
    from udpcore.past_service import Said
    store, eng, hist, journalled, problems = turn_of(tmp_path)
    real = store._conn
    store._conn = RefusingConnection(real, "database or disk is full")
    eng.said = [Said(1, "ana", "um", 0)]
    hist.before_send(1.0)
    hist.after_send(1.0)
    assert problems == [ev.HistoryProblem("paused")] and journalled() == [1]
    store._conn = real
    eng.said = [Said(2, "ana", "dois", 0)]
    hist.before_send(2.0)
    hist.after_send(2.0)
    assert problems[-1] == ev.HistoryProblem("resumed") and journalled() == [1, 2]
    store.close()
    with HistoryStore.open(tmp_path, now=1_800_000_000.0) as again:      # 1 came back from the journal
        assert [x.text for x in again.after(0, 5)] == ["um", "dois"]


def test_the_operators_room_line_is_kept_with_no_origin_and_a_members_with_its_own():
    room = HistRoom()
    a = room.add_with("ana")
    room.settle()
    room.server.say("do operador", room.now)
    room.say(a, "da ana")
    kept = {x.text: x for x in room.store.after(0, 10)}
    assert (kept["do operador"].origin, kept["do operador"].msg_id) == (b"", 0)
    assert kept["da ana"].origin == room.server._roster.named("ana").origin != b""
    assert kept["da ana"].msg_id != 0
