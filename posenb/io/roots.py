"""Allowed roots: the folders a dashboard may show and pick files in.

A dashboard on a shared server (a token-less localhost Voila, a JupyterHub) must not hand every local user the
whole file system. Its panels therefore only list, open and pick paths inside a few *roots*: the project folder,
the folder the dashboard was started in, and the roots the user configures (an argument of ``launch()``, or the
environment variable ``POSENB_ALLOWED_ROOTS``, a ``os.pathsep``-separated list).

The rule (:func:`confine`) is pure and resolves before it compares: ``~`` is expanded, relative paths are taken
from the first root, ``..`` and every symbolic link are resolved (``Path.resolve``), and only then is the result
checked to lie inside a resolved root. So ``root/../etc``, a link ``root/out -> /etc`` and ``/etc/passwd`` are all
refused. No widgets here.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from posenb.errors import PosenbError

__all__ = ["ENV_VAR", "START_ENV_VAR", "OutsideRootsError", "allowed_roots", "confine", "is_inside", "parent_within"]

ENV_VAR = "POSENB_ALLOWED_ROOTS"
#: the folder a dashboard was started in (``posenb dashboard`` sets it: Voila runs its kernel in the notebook's
#: folder, not where the command was typed)
START_ENV_VAR = "POSENB_START_DIR"


class OutsideRootsError(PosenbError, PermissionError):
    """A path outside the dashboard's allowed roots (the message names the path and the roots)."""


def _resolve(path: str | os.PathLike) -> Path:
    return Path(os.path.expanduser(str(path))).resolve()


def allowed_roots(
    *extra: str | os.PathLike | Iterable[str | os.PathLike] | None,
    start: str | os.PathLike | None = None,
    env: dict | None = None,
) -> list[Path]:
    """The resolved, de-duplicated roots: ``start`` (default: ``POSENB_START_DIR`` of ``env``, else the current
    directory), then ``extra`` (paths, lists of paths, or None), then those of ``POSENB_ALLOWED_ROOTS`` in ``env``
    (default ``os.environ``).

    Roots that do not exist are left out (a root is a folder).
    """
    env = os.environ if env is None else env
    items: list = [start if start is not None else (env.get(START_ENV_VAR) or os.getcwd())]
    for e in extra:
        if e is None:
            continue
        if isinstance(e, (str, os.PathLike)):
            items.append(e)
        else:
            items.extend(x for x in e if x)
    items.extend(p for p in str(env.get(ENV_VAR, "")).split(os.pathsep) if p.strip())
    out: list[Path] = []
    for item in items:
        root = _resolve(item)
        if root.is_dir() and root not in out:
            out.append(root)
    return out


def is_inside(path: str | os.PathLike, roots: Iterable[str | os.PathLike]) -> bool:
    """Whether ``path`` (after ``~``, ``..`` and symbolic links are resolved) is a root or lies inside one."""
    p = _resolve(path)
    return any(p == r or r in p.parents for r in (_resolve(x) for x in roots))


def confine(path: str | os.PathLike, roots: Iterable[str | os.PathLike]) -> Path:
    """``path`` resolved (relative paths from the first root), if inside ``roots``.

    Raises :class:`OutsideRootsError` naming the path and the roots otherwise (and for an empty ``path``).
    """
    roots = [_resolve(r) for r in roots]
    text = str(path).strip()
    if not text:
        raise OutsideRootsError("No path given.")
    p = Path(os.path.expanduser(text))
    if not p.is_absolute() and roots:
        p = roots[0] / p
    resolved = p.resolve()
    if not any(resolved == r or r in resolved.parents for r in roots):
        where = ", ".join(str(r) for r in roots) or "(none)"
        raise OutsideRootsError(
            f"{text} is outside the folders this dashboard may open ({where}). Start the dashboard in a folder "
            f"above it, pass it to launch(roots=[...]), or add it to {ENV_VAR}."
        )
    return resolved


def parent_within(folder: str | os.PathLike, roots: Iterable[str | os.PathLike]) -> Path | None:
    """The parent of ``folder`` if it is inside ``roots``, else None (``folder`` is a root: "Up" stops)."""
    f = _resolve(folder)
    roots = [_resolve(r) for r in roots]
    if f in roots or f.parent == f:
        return None
    parent = f.parent
    return parent if any(parent == r or r in parent.parents for r in roots) else None
