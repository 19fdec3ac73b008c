"""Where a room's passphrase comes from (issue 12): a file or LANCHAT_PASSPHRASE, never
an option's value; every problem is one sentence."""
from __future__ import annotations

import pytest

from chatfront import wording
from chatfront.options import client_parser, server_parser
from chatfront.passphrase import ENV_VAR, MAX_CHARS, PassphraseProblem, passphrase_from

pytestmark = pytest.mark.timeout(10)


def test_the_file_comes_first_and_only_its_line_end_is_removed(tmp_path):
    f = tmp_path / "pw"
    f.write_bytes("\ufeff  pão de queijo \r\n".encode("utf-8"))          # Notepad: BOM and CRLF
    assert passphrase_from(str(f), {ENV_VAR: "from-env"}) == "  pão de queijo "
    f.write_text("one\ntwo\n", encoding="utf-8")
    assert passphrase_from(str(f), {}) == "one\ntwo"                 # only the last line end goes


def test_the_environment_is_used_without_a_file_and_nothing_means_open():
    assert passphrase_from(None, {ENV_VAR: "sesame"}) == "sesame"
    assert passphrase_from(None, {}) == ""
    assert passphrase_from("", {}) == ""


@pytest.mark.parametrize("content, what", [("", "empty"), ("\n", "empty"), ("x" * (MAX_CHARS + 1), "too long")])
def test_a_file_that_cannot_be_a_passphrase_says_why(tmp_path, content, what):
    f = tmp_path / "pw"
    f.write_text(content, encoding="utf-8")
    with pytest.raises(PassphraseProblem) as info:
        passphrase_from(str(f), {})
    assert info.value.what == what and info.value.source == str(f)


def test_the_longest_passphrase_is_taken(tmp_path):
    f = tmp_path / "pw"
    f.write_text("x" * MAX_CHARS + "\n", encoding="utf-8")
    assert passphrase_from(str(f), {}) == "x" * MAX_CHARS


def test_an_empty_variable_and_a_missing_or_binary_file_are_one_sentence_each(tmp_path):
    with pytest.raises(PassphraseProblem) as empty:
        passphrase_from(None, {ENV_VAR: ""}) or passphrase_from(None, {ENV_VAR: "x" * (MAX_CHARS + 1)})
    assert empty.value.what == "too long"
    missing = pytest.raises(PassphraseProblem, passphrase_from, str(tmp_path / "none"), {}).value
    binary = tmp_path / "bin"
    binary.write_bytes(b"\xff\xfe\x00garbage\x80")
    bad = pytest.raises(PassphraseProblem, passphrase_from, str(binary), {}).value
    sentences = [wording.explain(e) for e in (missing, bad, PassphraseProblem(ENV_VAR, "empty"),
                                              PassphraseProblem(str(binary), "empty"),
                                              PassphraseProblem(ENV_VAR, "too long"))]
    assert str(tmp_path / "none") in sentences[0] and "No such file" in sentences[0]
    assert ENV_VAR in sentences[2] and "empty" in sentences[3] and str(MAX_CHARS) in sentences[4]
    assert len(set(sentences)) == len(sentences)
    for s in sentences:
        assert s.endswith((".", "?")) and "\n" not in s and "Traceback" not in s


def test_no_option_takes_the_passphrase_itself(capsys):
    for parser in (server_parser(), client_parser()):
        text = parser.format_help()
        assert "--passphrase-file" in text and ENV_VAR in text
        for argv in (["--passphrase", "sesame"], ["--passphrase=sesame"], ["--passphrase"]):
            with pytest.raises(SystemExit) as info:
                parser.parse_args(argv)                 # what ps would show: refused, not taken as a file
            assert info.value.code == 2
            assert wording.passphrase_not_on_command_line() in capsys.readouterr().err
        assert parser.parse_args(["--passphrase-file", "pw.txt"]).passphrase_file == "pw.txt"
