"""The one yes/no question of the core: each caller's answer without a terminal, answers read, never hanging."""

from __future__ import annotations

import pytest

from posenb.io.prompt import ask_yes_no, stdin_is_interactive


def test_without_a_terminal_the_callers_answer_is_given_and_said(capsys):
    assert not stdin_is_interactive()  # pytest captures stdin
    assert ask_yes_no("Extract?") is False
    assert "Extract? -> no (no interactive input available; pass automatic=True" in capsys.readouterr().out
    assert ask_yes_no("Convert?", without_input=True, skip_hint="pass userfeedback=False") is True
    assert (
        "Convert? -> yes (no interactive input available; pass userfeedback=False" in capsys.readouterr().out
    )
    assert ask_yes_no("Extract?", automatic=True) is True and capsys.readouterr().out == ""


@pytest.mark.parametrize(
    "answer, expected",
    [("yes", True), ("Y", True), ("oui", True), (" ok ", True), ("no", False), ("", False)],
)
def test_answers_read_from_the_terminal(monkeypatch, answer, expected):
    monkeypatch.setattr("posenb.io.prompt.stdin_is_interactive", lambda: True)
    monkeypatch.setattr("builtins.input", lambda *_: answer)
    assert ask_yes_no("Go?") is expected
    assert ask_yes_no("Go?", without_input=True) is expected


def test_a_closed_stdin_gives_the_callers_answer(monkeypatch):
    def eof(*_):
        raise EOFError

    monkeypatch.setattr("posenb.io.prompt.stdin_is_interactive", lambda: True)
    monkeypatch.setattr("builtins.input", eof)
    assert ask_yes_no("Go?") is False
    assert ask_yes_no("Go?", without_input=True) is True


def test_every_question_of_the_core_is_this_one():
    """No module outside posenb/io/prompt.py calls ``input()`` (the widgets ask through panels, never input())."""
    import ast
    from pathlib import Path

    import posenb

    root = Path(posenb.__file__).parent
    calls = []
    for path in sorted(root.rglob("*.py")):
        if path == root / "io" / "prompt.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("input", "raw_input"):
                calls.append(f"{path.relative_to(root)}:{node.lineno}")
    assert not calls, f"ask through posenb.io.prompt.ask_yes_no instead: {calls}"
