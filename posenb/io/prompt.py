"""The core's one yes/no question: asked on a terminal or in a Jupyter kernel, never hanging without one.

DeepLabCut asks before some steps (``extract_frames(userfeedback=True)``, ``extract_outlier_frames``, the label
helpers). When nobody can answer (a script with redirected stdin, a batch job, Voila, nbclient), the caller's
``without_input`` answer is taken and a line says so and how to skip the question; nothing ever waits.
"""

from __future__ import annotations

import builtins
import sys

__all__ = ["ask_yes_no", "stdin_is_interactive", "YES"]

YES = frozenset({"y", "yes", "ja", "ha", "oui", "ok", "si", "sí", "da"})


def stdin_is_interactive() -> bool:
    """True when ``input()`` can get an answer: a terminal, or a Jupyter kernel (ipykernel replaces ``input`` by
    its ``raw_input``, which asks the front end, and raises when the front end allows no input)."""
    owner = getattr(builtins.input, "__self__", None)  # ipykernel installs its bound raw_input as input()
    if owner is not None and type(owner).__module__.startswith("ipykernel"):
        return True
    if "ipykernel" in (getattr(builtins.input, "__module__", "") or ""):
        return True
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def ask_yes_no(
    question: str,
    automatic: bool = False,
    without_input: bool = False,
    skip_hint: str = "pass automatic=True to proceed without asking",
) -> bool:
    """Ask ``question`` (yes/no); True for yes. ``automatic`` answers yes without asking.

    When no answer can be read, the answer is ``without_input`` (each caller keeps DeepLabCut's behaviour:
    ``extract_frames`` proceeds, ``extract_outlier_frames`` does not) and a message gives it with ``skip_hint``.
    """
    if automatic:
        return True
    if stdin_is_interactive():
        try:
            answer = input(f"{question} (yes/no): ")
        except (EOFError, OSError, RuntimeError, NotImplementedError):  # StdinNotImplementedError is one
            pass
        else:
            return answer.strip().lower() in YES
    word = "yes" if without_input else "no"
    print(f"{question} -> {word} (no interactive input available; {skip_hint}).")
    return bool(without_input)
