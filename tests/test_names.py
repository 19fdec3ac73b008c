"""Names that cannot impersonate (issue 11), and text that cannot fake its surroundings.

Every look-alike is written with \\u escapes so the file shows what it tests.
"""
from __future__ import annotations

import unicodedata

import pytest

from chatfront.wording import describe, explain, notice
from udpcore import confusables_data, events as ev
from udpcore.errors import InvalidName, NameProblem, NameTaken
from udpcore.names import (GUEST_PREFIX, MAX_MARKS, SERVER_NAME, check_name, clean_text, name_key,
                           name_problem)
from udpcore.roster import Member, Roster


def plain_id(text: str) -> str:
    """A test id of ASCII letters and U+XXXX: selectable again by name (mutmut reruns by id)."""
    return "".join(c if c.isascii() and c.isalnum() else f"U+{ord(c):04X}" for c in text)


pytestmark = pytest.mark.timeout(30)

ALICE = "alice"

# The look-alikes of "alice": each is the same name as alice.
ALICE_LOOKALIKES = [
    "\u0430lice",               # Cyrillic small a
    "a\u0406ice",               # Cyrillic capital I (Byelorussian-Ukrainian)
    "aIice",                    # Latin capital I for the small l
    "a1ice",                    # digit one for the small l
    "ALICE", "Alice", "aLiCe",
    "\uff41\uff4c\uff49\uff43\uff45",   # full-width
    "\u0251lice",               # Latin small alpha
    "alic\u0435",               # Cyrillic small ie at the end
]

# The invisible tails: each makes "alice" + something that shows as alice.
INVISIBLE = [
    "alice\u200d",              # zero-width joiner
    "alice\u2060",              # word joiner
    "alice\u200e",              # left-to-right mark
    "\u2066alice\u2069",        # left-to-right isolate ... pop directional isolate
    "\u2067alice",              # right-to-left isolate, never closed
    "\u2068alice\u2069",        # first strong isolate
    "\u202ealice",              # right-to-left override
    "alice\u034f",              # combining grapheme joiner (a mark, default-ignorable)
    "alice\u200b",              # zero-width space
    "al\u00adice",              # soft hyphen
    "alice\ufe0f",              # variation selector 16
    "alice\U000e0101",          # variation selector 18
    "\u3164alice",              # Hangul filler (a letter, default-ignorable)
    "alice\u115f",              # Hangul choseong filler
    "alice\u17b4",              # Khmer inherent vowel (a mark, default-ignorable)
    "alice\u180b",              # Mongolian free variation selector
    "alice\ufeff",              # zero-width no-break space
    "alice\U000e0041",          # tag letter A
    "alice\ue000",              # private use
    "alice\u0378",              # unassigned
]


def room_with(*names: str) -> Roster:
    roster = Roster()
    for i, name in enumerate(names):
        roster.add(Member(name, ("127.0.0.1", 4000 + i), None, 0.0))
    return roster


# --- look-alikes are one name ---------------------------------------------------------


@pytest.mark.parametrize("name", ALICE_LOOKALIKES, ids=plain_id)
def test_look_alikes_of_alice_key_as_alice(name):
    assert name_key(name) == name_key(ALICE)
    assert name_problem(name) is None           # a fine name, while no alice is in the room


@pytest.mark.parametrize("name", ALICE_LOOKALIKES, ids=plain_id)
def test_the_room_finds_alice_by_a_look_alike(name):
    """The roster indexes by name_key: the server refuses a look-alike as NAME_TAKEN."""
    roster = room_with(ALICE)
    assert roster.named(name) is not None and roster.named(name).name == ALICE


@pytest.mark.parametrize("a,b", [
    ("alice", "alicia"), ("bob", "rob"), ("bob", "bobby"), ("ann", "anne"), ("eve", "ewe"),
    ("zoe", "zoë"), ("jose", "josé"), ("anna", "anya"), ("mike", "mika"), ("sam", "fam"),
    ("nina", "vina"), ("dan", "don"), ("tom", "tim"),
    ("\u0431\u043e\u0440\u0438\u0441", "\u0433\u043e\u0440\u0438\u0441"),     # Cyrillic борис, горис
])
def test_different_names_stay_different(a, b):
    assert name_key(a) != name_key(b)
    assert room_with(a).named(b) is None


@pytest.mark.parametrize("a,b", [
    ("\u0412ob", "Bob"),            # Cyrillic capital VE looks like B
    ("\u039dick", "Nick"),          # Greek capital NU
    ("\u0405am", "Sam"),            # Cyrillic capital DZE
    ("b0b", "bob"),                 # zero and small o
    ("MIKE", "mike"),               # capital M folds to m, which looks like rn
    ("rnike", "mike"),
    ("Ian", "lan"),                 # capital I and small l
    ("Ian", "ian"),                 # ...and still one name with its own small form
    ("ILYA", "ilya"), ("Stra\u00dfe", "STRASSE"),
    ("\u212bngstr\u00f6m", "\u00c5ngstr\u00f6m"),   # Angstrom sign and A with ring (NFKC)
    ("e\u0301", "\u00e9"),          # decomposed and composed e acute
    ("zo\u00eb", "ZO\u00cb"),
])
def test_confusable_pairs_are_one_name(a, b):
    assert name_key(a) == name_key(b)


def test_key_ignores_default_ignorables_so_a_lookup_finds_the_member():
    assert name_key("ali\u200bce") == name_key("alice\ufe0f") == name_key(ALICE)


def test_key_is_stable_under_itself():
    for name in [ALICE, *ALICE_LOOKALIKES, "MIKE", "\u0412ob", "Zo\u00eb_42", "\U0001f600"]:
        assert name_key(name_key(name)) == name_key(name)


# --- reserved names and their look-alikes ---------------------------------------------


@pytest.mark.parametrize("name", [
    "\u0455erver",                  # Cyrillic dze: looks exactly like the operator
    "s\u0435rver", "serv\u0435r",   # Cyrillic ie
    "\u0405ERVER", "\u0455\u0435rv\u0435r",
    "gu\u0435st-x",                 # Cyrillic ie in guest-
    "gu\u0435st-",                  # the prefix alone
    "guest\u2010x",                 # hyphen for hyphen-minus
    "GUEST\u2010",
    "gue\u0455t-127.0.0.1:4000",
])
def test_look_alikes_of_reserved_names_are_refused(name):
    assert name_problem(name) is NameProblem.LOOKS_RESERVED
    with pytest.raises(InvalidName) as info:
        check_name(name)
    assert info.value.problem is NameProblem.LOOKS_RESERVED
    assert "reserved" in explain(info.value)


@pytest.mark.parametrize("name", [SERVER_NAME, "SERVER", "Server", "\uff53erver", GUEST_PREFIX, "guest-x",
                                  "GUEST-1"])
def test_the_reserved_names_themselves_stay_reserved(name):
    assert name_problem(name) is NameProblem.RESERVED


@pytest.mark.parametrize("name", ["servers", "serve", "guest", "guestx", "guest_x", "xguest-", "my-server",
                                  "g-uest", "guests-"])
def test_names_near_the_reserved_ones_are_fine(name):
    assert name_problem(name) is None


# --- invisible, format, bidi and combining characters ---------------------------------


@pytest.mark.parametrize("name", INVISIBLE, ids=plain_id)
def test_invisible_and_format_characters_are_refused(name):
    assert name_problem(name) is NameProblem.BAD_CHARACTER


@pytest.mark.parametrize("cp", [0x00AD, 0x034F, 0x061C, 0x180E, 0x200B, 0x200F, 0x202A, 0x202E, 0x2060, 0x2064,
                                0x2066, 0x2069, 0x206F, 0xFE00, 0xFEFF, 0xE0001, 0xE007F, 0xE0100, 0xE01EF])
def test_every_edge_of_the_ignorable_ranges_is_refused(cp):
    assert name_problem("ab" + chr(cp)) is NameProblem.BAD_CHARACTER
    assert name_problem(chr(cp) + "ab") is NameProblem.BAD_CHARACTER


@pytest.mark.parametrize("name", ["e\u0301", "\u00e9", "Ti\u1ebfng", "\u1ec7", "\u0915\u094d\u0937\u093f",
                                  "\u05e9\u05c1\u05b8\u05dc\u05d5\u05b9\u05dd", "o" + "\u0301" * MAX_MARKS])
def test_accents_and_scripts_with_marks_are_fine(name):
    assert name_problem(name) is None


@pytest.mark.parametrize("name", [
    "\u0301alice",                          # a combining mark first
    "\u20dd",                               # an enclosing mark alone
    "\u0903ab",                             # a spacing mark first
    "o" + "\u0301" * (MAX_MARKS + 1),       # one over the cap
    "ab" + "\u0300\u0301\u0302\u0303\u0304",
    "z" + "\u0336\u0337\u0338\u0335\u0334\u0335" * 3,     # Zalgo
    "\u1ec7" + "\u0301" * (MAX_MARKS - 1),  # precomposed: counted after NFD (e + 2 marks + 3)
])
def test_leading_and_stacked_marks_are_refused(name):
    assert name_problem(name) is NameProblem.MARKS
    assert "mark" in explain(InvalidName(name, NameProblem.MARKS))


def test_marks_are_counted_per_letter():
    assert name_problem(("o" + "\u0301" * MAX_MARKS) * 2) is None
    assert name_problem("o" + "\u0301" * MAX_MARKS + "\u0301") is NameProblem.MARKS


def test_the_first_check_that_fails_names_the_problem():
    assert name_problem("") is NameProblem.BLANK
    assert name_problem("\u200b" * 25) is NameProblem.TOO_LONG
    assert name_problem("\u0301\u200b") is NameProblem.BAD_CHARACTER      # bad character before marks
    assert name_problem("\u0301server") is NameProblem.MARKS               # marks before reserved
    assert name_problem("s" + "\u0301" * 9) is NameProblem.MARKS


@pytest.mark.parametrize("name", ["\U0001f600", "\U0001f600" * 24, "x" * 24, "Zo\u00eb_42",
                                  "\u0627\u0644\u0639\u0631\u0628\u064a\u0629", "\u4e2d\u6587", "\u00d1and\u00fa"])
def test_ordinary_names_and_the_length_limit(name):
    assert name_problem(name) is None


# --- the sentences ----------------------------------------------------------------------


def test_a_refused_look_alike_is_told_why_in_one_sentence():
    text = explain(InvalidName("\u0455erver", NameProblem.LOOKS_RESERVED))
    assert text.count(".") == 1 and text.endswith(".") and "\u0455erver" in text
    assert "taken" in explain(NameTaken("\u0430lice"))


def test_sentences_never_carry_controls_from_a_name():
    text = explain(InvalidName("\u202eecila\x1b[2J", NameProblem.BAD_CHARACTER))
    assert "\u202e" not in text and "\x1b" not in text
    text = explain(NameTaken("\u202eecila\x1b[2J"))
    assert "\u202e" not in text and "\x1b" not in text and "ecila [2J" in text


# --- clean_text: content kept, nothing reorders or escapes ----------------------------


@pytest.mark.parametrize("text,shown", [
    ("plain", "plain"),
    ("a\u202eb", "ab"), ("\u202aa\u202cb", "ab"), ("\u202bx\u202dy", "xy"),
    ("\u2066a\u2069 \u2067b\u2068c", "a bc"),
    ("\u206aa\u206f", "a"),
    ("a\x1b[31mred", "a [31mred"),          # ESC: a terminal escape becomes harmless text
    ("a\x9b31mb", "a 31mb"),                # CSI as one C1 character
    ("a\x07\x00\x7f\x85b", "a    b"),
    ("tab\tkept", "tab\tkept"),
    ("a\nb\rc", "a b c"),
])
def test_clean_text_neutralises_reordering_and_controls(text, shown):
    assert clean_text(text) == shown


@pytest.mark.parametrize("text", [
    "\U0001f468\u200d\U0001f469\u200d\U0001f467",     # family emoji: zero-width joiners
    "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",   # Persian: zero-width non-joiner
    "\u05e9\u05dc\u05d5\u05dd\u200f!",                # Hebrew with a right-to-left mark
    "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",   # a flag with tags
    "\u2764\ufe0f and a soft\u00adhyphen",
])
def test_clean_text_keeps_joiners_marks_and_emoji(text):
    assert clean_text(text) == text


def test_clean_text_keeps_everything_printable_untouched():
    text = "caf\u00e9 \u4e2d\u6587 \u0627\u0644\u0639\u0631\u0628\u064a\u0629 \U0001f600"
    assert clean_text(text) is text


def test_nothing_shown_on_the_terminal_carries_an_escape_or_a_bidi_control():
    evil = "\x1b]0;owned\x07\u202e\x9b2J\u2066"
    lines = [
        describe(ev.RoomLine(1, evil, evil)),
        describe(ev.RoomLine(1, evil, evil, action=True)),
        describe(ev.RoomLine(0, evil, evil, private_to=evil), "bob"),
        describe(ev.MemberJoined(evil, evil, False)),
        describe(ev.MemberLeft(evil)),
        describe(ev.MemberRenamed(evil, evil, False)),
        describe(ev.MemberList((evil, evil), answers_who=True)),
        describe(ev.ServerClosed(evil)),
        notice(ev.Connected(evil, evil)),
    ]
    for line in lines:
        assert line and not any(unicodedata.category(ch) in ("Cc",) for ch in line), ascii(line)
        assert not any(0x202A <= ord(ch) <= 0x202E or 0x2066 <= ord(ch) <= 0x2069 for ch in line), ascii(line)


# --- the data --------------------------------------------------------------------------


def test_the_table_is_unicode_tr39_and_loads_whole():
    entries = confusables_data.PROTOTYPES.rstrip("\n").replace("\n", "\x1f").split("\x1f")
    assert confusables_data.VERSION == "13.0.0" and len(entries) == 6311
    assert entries[0] == '"' + "''" and entries[-1] == "\U0002fa1d\U0002a600"
    assert all(len(e) >= 2 for e in entries)
    assert confusables_data.IGNORABLE[0] == (0x00AD, 0x00AD) and confusables_data.IGNORABLE[-1] == (0xE0000, 0xE0FFF)


# --- clean_message: a chat message keeps its line breaks, and nothing else ---------------


@pytest.mark.parametrize("text,shown", [
    ("one line", "one line"),
    ("a\nb", "a\nb"),
    ("a\r\nb\rc", "a\nb\nc"),                          # Windows and old Mac breaks: one kind
    ("a\u2028b\u2029c", "a\nb\nc"),                    # Unicode's separators too
    ("\n\n a\n\nb  \n\n", " a\n\nb"),                  # blank lines at the ends go, inside stay
    ("x\n\x1b[2Jbob: fake", "x\n [2Jbob: fake"),       # no escape on any line
    ("a\u202e\nb\u2066c", "a\nbc"),                    # no override either
    ("tab\there\nok", "tab\there\nok"),
    ("a\x0bb\x0cc", "a b c"),                          # vertical tab, form feed: spaces, not breaks
    ("\n \n", ""),
])
def test_clean_message_keeps_line_breaks_and_removes_every_other_control(text, shown):
    from udpcore.names import clean_message
    assert clean_message(text) == shown
    assert clean_message(shown) == shown                # the server cleans the client's text again


def test_clean_message_caps_the_lines_without_losing_words():
    from udpcore.names import MAX_TEXT_LINES, clean_message
    text = "\n".join(f"l{i}" for i in range(MAX_TEXT_LINES + 5))
    got = clean_message(text).split("\n")
    assert len(got) == MAX_TEXT_LINES
    assert got[-1] == " ".join(f"l{i}" for i in range(MAX_TEXT_LINES - 1, MAX_TEXT_LINES + 5))


def test_clean_message_leaves_printable_text_untouched():
    from udpcore.names import clean_message
    text = "caf\u00e9 \U0001f600"
    assert clean_message(text) is text


@pytest.mark.parametrize("text", ["x\nbob: fake", "\nbob: fake", "x\r\nbob: fake", "x\u2028bob: fake",
                                  "x\n\n\nbob: fake", "x\n\x1b[2Kbob: fake"])
def test_no_line_of_a_message_can_pose_as_another_members_line_in_the_terminal(text):
    from udpcore.names import clean_message
    for sent in (text, clean_message(text)):            # as cleaned, and as a hostile server may send it
        shown = describe(ev.RoomLine(1, "ana", sent, False))
        assert shown.startswith("ana: ")
        assert not any(line.startswith("bob") for line in shown.split("\n")), shown
        assert all(line.startswith("    | ") for line in shown.split("\n")[1:]), shown
