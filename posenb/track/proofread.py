"""Track proofreading: an editable tracked file (``<stem>DLC_<scorer>_el.h5``) with undo, and its save.

:class:`TrackEditor` holds the tracks of one video as arrays, ``(T, N, P, 3)`` x, y (px), likelihood, NaN x/y =
no point; N tracks (individuals, the unique parts ``single`` kept aside untouched), P body parts. Every edit
(swap two identities on frames ``[start, stop)`` or from a frame to the end, cut, join, delete a stretch of a
track, set or delete a point) is recorded as the block of frames it changed, before and after, so that
:meth:`TrackEditor.undo` / :meth:`~TrackEditor.redo` restore it exactly. :meth:`TrackEditor.save` writes
DeepLabCut's 4-level table back (atomic, previous file kept as ``.bak``, the ``.csv`` beside it rewritten when
there is one). :func:`load_track_editor` finds the tracked file of a video as the other post-processing steps
do; :func:`send_to_training_set` (in :mod:`posenb.track.training_set`) turns corrected frames into human
labels.

A point removed by an edit becomes x = y = NaN, likelihood 0; a point placed by hand gets likelihood 1.
No Jupyter import: the proofreading panel (``posenb.widgets``) drives this class.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from posenb.errors import ConfigError, LabelError, ProofreadError
from posenb.post._multi import UNIQUE, group_array, pose_groups, tracker_suffix
from posenb.track.files import read_tracked, tracked_table, write_tracked
from posenb.track.suspicious import KINDS, Suspicion, mean_likelihood, runs, suspicious_frames

__all__ = ["TrackEditor", "load_track_editor"]

_EMPTY = np.array([np.nan, np.nan, 0.0])


@dataclass(eq=False)
class _Edit:
    """Frames ``[start, stop)`` of tracks ``tracks`` were ``before`` and became ``after`` ((n, k, P, 3) each);
    ``frame``: where the edit was made (for the training set); ``what``: a short description. A swap stores no
    arrays (``before is None``): it is its own inverse, so a swap of a long video costs no memory."""

    start: int
    stop: int
    tracks: tuple[int, ...]
    before: np.ndarray | None
    after: np.ndarray | None
    frame: int
    what: str

    def apply(self, data: np.ndarray, forward: bool) -> None:
        rows, cols = slice(self.start, self.stop), list(self.tracks)
        if self.before is None:
            data[rows, cols] = data[rows, cols[::-1]]
        else:
            data[rows, cols] = self.after if forward else self.before


class TrackEditor:
    """An editable tracked file: the arrays, an undo stack, save.

    Attributes (read-only for a panel): ``path`` (the ``_el.h5``), ``video`` (Path or None), ``scorer``,
    ``individuals`` (N track names, unique parts excluded), ``bodyparts`` (P), ``poses`` (T, N, P, 2) px (a
    read-only view), ``likelihood`` (T, N, P) (read-only view), ``unique`` (T, U, 3) or None and
    ``unique_bodyparts``, ``n_frames``, ``dirty`` (unsaved edits), ``edited_frames`` (the frame each edit still
    applied was made at), ``history`` (descriptions of the edits applied, oldest first).

    Individuals are given by name or index; body parts by name or index; frames are 0-based indices and ranges
    ``[start, stop)``.
    """

    def __init__(
        self,
        tracks: np.ndarray,
        individuals,
        bodyparts,
        *,
        scorer: str = "posenb",
        path: str | os.PathLike | None = None,
        video: str | os.PathLike | None = None,
        unique: np.ndarray | None = None,
        unique_bodyparts=(),
        index=None,
    ):
        self._data = np.array(tracks, dtype="float64")  # a copy: the caller's array is never edited
        if self._data.ndim != 4 or self._data.shape[-1] != 3:
            raise ValueError(f"tracks must be (T, N, P, 3) x, y, likelihood; got {self._data.shape}")
        self.individuals = [str(i) for i in individuals]
        self.bodyparts = [str(b) for b in bodyparts]
        if self._data.shape[1:3] != (len(self.individuals), len(self.bodyparts)):
            raise ValueError(
                f"tracks {self._data.shape} do not match {len(self.individuals)} individuals x "
                f"{len(self.bodyparts)} body parts"
            )
        self.scorer = str(scorer)
        self.path = Path(path) if path is not None else None
        self.video = Path(video) if video is not None else None
        self.unique = None if unique is None else np.array(unique, dtype="float64")
        self.unique_bodyparts = [str(b) for b in unique_bodyparts] if self.unique is not None else []
        self._index = index if index is not None else pd.RangeIndex(len(self._data))
        self._undo: list[_Edit] = []
        self._redo: list[_Edit] = []
        self._saved_top: _Edit | None = None
        self._cache: tuple | None = None
        self._suspicious_kw: dict = {}

    # ------------------------------------------------------------------------------------------------ loading
    @classmethod
    def load(cls, path: str | os.PathLike, video: str | os.PathLike | None = None) -> TrackEditor:
        """Read a tracked ``_el.h5`` (or ``.csv``): columns (scorer, individuals, bodyparts, coords)."""
        path = Path(path)
        df = read_tracked(path)
        groups = [(ind, bps) for ind, bps in pose_groups(df) if ind != UNIQUE]
        if not groups:
            raise LabelError(f"{path}: no individual's track in this file (only unique parts).")
        bodyparts = groups[0][1]
        odd = [ind for ind, bps in groups if bps != bodyparts]
        if odd:
            raise LabelError(f"{path}: individuals {odd} have other body parts than {groups[0][0]!r}.")
        tracks = np.stack([group_array(df, ind, bodyparts) for ind, _ in groups], axis=1)
        uparts = dict(pose_groups(df)).get(UNIQUE, [])
        unique = group_array(df, UNIQUE, uparts) if uparts else None
        scorer = str(df.columns.get_level_values(0)[0])
        return cls(
            tracks, [ind for ind, _ in groups], bodyparts, scorer=scorer, path=path, video=video,
            unique=unique, unique_bodyparts=uparts, index=df.index,
        )  # fmt: skip

    # ------------------------------------------------------------------------------------------------ state
    @property
    def n_frames(self) -> int:
        return int(self._data.shape[0])

    @property
    def tracks(self) -> np.ndarray:
        """(T, N, P, 3) x, y, likelihood (a read-only view)."""
        view = self._data.view()
        view.flags.writeable = False
        return view

    @property
    def poses(self) -> np.ndarray:
        """(T, N, P, 2) x, y px, NaN = missing (a read-only view)."""
        return self.tracks[..., :2]

    @property
    def likelihood(self) -> np.ndarray:
        """(T, N, P) (a read-only view)."""
        return self.tracks[..., 2]

    @property
    def dirty(self) -> bool:
        """Are there edits not saved (an undo back to the saved state makes it clean again)?"""
        return (self._undo[-1] if self._undo else None) is not self._saved_top

    @property
    def edited_frames(self) -> set[int]:
        """The frame each applied edit was made at (a range edit counts once, at its first frame)."""
        return {e.frame for e in self._undo}

    @property
    def history(self) -> list[str]:
        return [e.what for e in self._undo]

    def present(self) -> np.ndarray:
        """(T, N) bool: the track has at least one point in the frame."""
        return np.isfinite(self._data[..., 0]).any(axis=2)

    def individual(self, individual) -> int:
        """Index of a track (name or index); ProofreadError for an unknown one."""
        if isinstance(individual, (int, np.integer)):
            if not 0 <= int(individual) < len(self.individuals):
                raise ProofreadError(
                    f"individual {individual} out of range ({len(self.individuals)} tracks)."
                )
            return int(individual)
        if str(individual) not in self.individuals:
            raise ProofreadError(f"Unknown individual {individual!r}; the tracks are {self.individuals}.")
        return self.individuals.index(str(individual))

    def bodypart(self, bodypart) -> int:
        if isinstance(bodypart, (int, np.integer)):
            if not 0 <= int(bodypart) < len(self.bodyparts):
                raise ProofreadError(f"body part {bodypart} out of range ({len(self.bodyparts)} parts).")
            return int(bodypart)
        if str(bodypart) not in self.bodyparts:
            raise ProofreadError(f"Unknown body part {bodypart!r}; the tracks have {self.bodyparts}.")
        return self.bodyparts.index(str(bodypart))

    def _frame(self, frame) -> int:
        if not 0 <= int(frame) < self.n_frames:
            raise ProofreadError(f"frame {frame} out of range (the tracks have {self.n_frames} frames).")
        return int(frame)

    def _range(self, start, stop) -> tuple[int, int]:
        start = self._frame(start)
        stop = self.n_frames if stop is None else min(int(stop), self.n_frames)
        if stop <= start:
            raise ProofreadError(f"empty frame range [{start}, {stop}).")
        return start, stop

    def segments(self, individual) -> list[tuple[int, int]]:
        """``[start, stop)`` runs of frames where the track has points."""
        return runs(self.present()[:, self.individual(individual)])

    def low_confidence(self, individual, pcutoff: float = 0.6) -> list[tuple[int, int]]:
        """``[start, stop)`` runs of frames where the track is present with a mean likelihood < ``pcutoff``."""
        i = self.individual(individual)
        mean = mean_likelihood(self._data[:, i : i + 1], self._data[:, i : i + 1, :, 2])[:, 0]
        with np.errstate(invalid="ignore"):
            return runs(mean < pcutoff)  # NaN (no point) compares False

    # ------------------------------------------------------------------------------------------------ edits
    def _commit(self, start, stop, tracks, after, frame, what) -> None:
        tracks = tuple(int(t) for t in tracks)
        before = self._data[start:stop][:, list(tracks)].copy()
        if np.array_equal(before, after, equal_nan=True):
            return  # nothing changes: no undo step
        self._push(_Edit(start, stop, tracks, before, after, int(frame), what))

    def _push(self, edit: _Edit) -> None:
        edit.apply(self._data, forward=True)
        self._undo.append(edit)
        self._redo.clear()

    def swap(self, a, b, start: int, stop: int | None = None) -> None:
        """Exchange the tracks ``a`` and ``b`` on frames ``[start, stop)``.

        ``stop`` is exclusive: the first frame whose identities are right again (where the animals met again);
        None (default) swaps to the end of the video. ProofreadError unless ``start < stop <= n_frames``."""
        ia, ib = self.individual(a), self.individual(b)
        if ia == ib:
            raise ProofreadError(
                f"swap needs two different individuals (got {self.individuals[ia]!r} twice)."
            )
        start = self._frame(start)
        if stop is not None and not start < int(stop) <= self.n_frames:
            raise ProofreadError(
                f"swap: the end frame {stop} must be after the start frame {start} and at most "
                f"{self.n_frames} (exclusive: the first frame not swapped; the tracks have {self.n_frames} "
                "frames). Leave it out (None) to swap to the end of the video."
            )
        start, stop = self._range(start, stop)
        if not self.present()[start:stop][:, [ia, ib]].any() and np.array_equal(
            self._data[start:stop, ia], self._data[start:stop, ib], equal_nan=True
        ):
            return  # two identical empty stretches: nothing changes
        what = f"swap {self.individuals[ia]} <-> {self.individuals[ib]} on frames {start}-{stop - 1}"
        self._push(_Edit(start, stop, (ia, ib), None, None, start, what))

    def _free(self, target: int, frames: np.ndarray) -> np.ndarray:
        """Frames (absolute) of ``frames`` where track ``target`` has points."""
        return frames[self.present()[frames, target]]

    def cut(self, individual, frame: int, to=None) -> str:
        """Move ``individual``'s points from ``frame`` to the end of the segment holding ``frame`` to track ``to``
        (default: the first other track with no point on those frames); returns the target track's name."""
        i, frame = self.individual(individual), self._frame(frame)
        seg = next(((s, e) for s, e in self.segments(i) if s <= frame < e), None)
        if seg is None:
            raise ProofreadError(f"{self.individuals[i]} has no point at frame {frame}: nothing to cut.")
        span = np.arange(frame, seg[1])
        if to is None:
            free = [j for j in range(len(self.individuals)) if j != i and not len(self._free(j, span))]
            if not free:
                raise ProofreadError(
                    f"No track is free on frames {frame}-{seg[1] - 1} to take {self.individuals[i]}'s points; "
                    "delete or cut another track there first."
                )
            j = free[0]
        else:
            j = self.individual(to)
            if j == i:
                raise ProofreadError("cut: the target track is the track being cut.")
            busy = self._free(j, span)
            if len(busy):
                raise ProofreadError(
                    f"{self.individuals[j]} has points on frames {busy[:5].tolist()} of {frame}-{seg[1] - 1}."
                )
        after = np.empty((len(span), 2) + self._data.shape[2:])
        after[:, 0] = _EMPTY
        after[:, 1] = self._data[frame : seg[1], i]
        what = f"cut {self.individuals[i]} at {frame} -> {self.individuals[j]} (frames {frame}-{seg[1] - 1})"
        self._commit(frame, seg[1], (i, j), after, frame, what)
        return self.individuals[j]

    def join(self, source, target, start: int, stop: int) -> None:
        """Move ``source``'s points on ``[start, stop)`` into ``target``, which must have no point on the frames
        where ``source`` has one (ProofreadError naming them otherwise)."""
        i, j = self.individual(source), self.individual(target)
        if i == j:
            raise ProofreadError("join: source and target are the same track.")
        start, stop = self._range(start, stop)
        has = self.present()[start:stop, i]
        if not has.any():
            raise ProofreadError(f"{self.individuals[i]} has no point on frames {start}-{stop - 1}.")
        busy = self._free(j, np.arange(start, stop)[has])
        if len(busy):
            raise ProofreadError(
                f"{self.individuals[j]} already has points on frames {busy[:5].tolist()} where "
                f"{self.individuals[i]} has some; cut or delete them first."
            )
        after = self._data[start:stop][:, [i, j]].copy()
        after[has, 1] = after[has, 0]
        after[has, 0] = _EMPTY
        what = f"join {self.individuals[i]} into {self.individuals[j]} on frames {start}-{stop - 1}"
        self._commit(start, stop, (i, j), after, start, what)

    def delete(self, individual, start: int, stop: int) -> None:
        """Remove ``individual``'s points on ``[start, stop)`` (x = y = NaN, likelihood 0)."""
        i = self.individual(individual)
        start, stop = self._range(start, stop)
        after = np.broadcast_to(_EMPTY, (stop - start, 1) + self._data.shape[2:])  # a view: no memory
        what = f"delete {self.individuals[i]} on frames {start}-{stop - 1}"
        self._commit(start, stop, (i,), after, start, what)

    def set_point(self, frame, individual, bodypart, x: float, y: float) -> None:
        """Place ``bodypart`` of ``individual`` at (x, y) px on ``frame`` (likelihood 1)."""
        t, i, k = self._frame(frame), self.individual(individual), self.bodypart(bodypart)
        if not (np.isfinite(x) and np.isfinite(y)):
            raise ProofreadError(f"set_point needs finite coordinates (got {x}, {y}); use delete_point.")
        after = self._data[t : t + 1, [i]].copy()
        after[0, 0, k] = (float(x), float(y), 1.0)
        what = f"set {self.individuals[i]}'s {self.bodyparts[k]} at frame {t}"
        self._commit(t, t + 1, (i,), after, t, what)

    def delete_point(self, frame, individual, bodypart) -> None:
        """Remove one point (x = y = NaN, likelihood 0)."""
        t, i, k = self._frame(frame), self.individual(individual), self.bodypart(bodypart)
        after = self._data[t : t + 1, [i]].copy()
        after[0, 0, k] = _EMPTY
        self._commit(t, t + 1, (i,), after, t, f"delete {self.individuals[i]}'s {self.bodyparts[k]} at {t}")

    def undo(self) -> bool:
        """Revert the last edit; False when there is none."""
        if not self._undo:
            return False
        edit = self._undo.pop()
        edit.apply(self._data, forward=False)
        self._redo.append(edit)
        return True

    def redo(self) -> bool:
        """Apply the last undone edit again; False when there is none."""
        if not self._redo:
            return False
        edit = self._redo.pop()
        edit.apply(self._data, forward=True)
        self._undo.append(edit)
        return True

    # ------------------------------------------------------------------------------------------------ files
    def to_dataframe(self) -> pd.DataFrame:
        """DeepLabCut's tracked table of the current arrays (individuals, then ``single`` with unique parts)."""
        df = tracked_table(
            self._data, self.scorer, self.individuals, self.bodyparts, self.unique, self.unique_bodyparts
        )
        df.index = self._index
        return df

    def save(self, path: str | os.PathLike | None = None) -> Path:
        """Write the tracks to ``path`` (default :attr:`path`) atomically, the previous file kept as ``.bak``;
        the ``.csv`` beside it is rewritten too when one exists. Returns the ``.h5`` written (the new
        :attr:`path`)."""
        target = Path(path) if path is not None else self.path
        if target is None:
            raise ProofreadError("This editor has no file: pass save(path='<video>DLC_<scorer>_el.h5').")
        target = target if target.suffix == ".h5" else target.with_suffix(".h5")
        out = write_tracked(self.to_dataframe(), target, save_as_csv=target.with_suffix(".csv").exists())
        self.path = out
        self._saved_top = self._undo[-1] if self._undo else None
        return out

    # ------------------------------------------------------------------------------------------------ navigation
    def suspicious(self, **kw) -> list[Suspicion]:
        """:func:`~posenb.track.suspicious.suspicious_frames` of the current tracks (``kw``: its thresholds;
        remembered for :meth:`next_suspicious` / :meth:`prev_suspicious`). Cached until the next edit."""
        if kw:
            self._suspicious_kw = dict(kw)
        kw = kw or self._suspicious_kw
        key = (self._undo[-1] if self._undo else None, len(self._undo), tuple(sorted(kw.items())))
        if self._cache is None or self._cache[0] != key:
            found = suspicious_frames(self.poses, self.likelihood, self.individuals, **kw)
            self._cache = (key, found)
        return list(self._cache[1])

    def _kinds(self, kinds) -> set[str]:
        if kinds is None:
            return set(KINDS)
        return {kinds} if isinstance(kinds, str) else set(kinds)

    def _involves(self, s: Suspicion, individuals) -> bool:
        """Does suspicion ``s`` name one of ``individuals`` (names or indices; None: any)?"""
        if individuals is None:
            return True
        names = {self.individuals[self.individual(i)] for i in individuals}
        return bool(names & set(s.individuals))

    def next_suspicious(self, frame: int, kinds=None, individuals=None) -> Suspicion | None:
        """The first suspicion strictly after ``frame`` (of ``kinds``, default all; naming one of
        ``individuals``, default any), or None."""
        wanted = self._kinds(kinds)
        return next(
            (
                s
                for s in self.suspicious()
                if s.frame > frame and s.kind in wanted and self._involves(s, individuals)
            ),
            None,
        )

    def prev_suspicious(self, frame: int, kinds=None, individuals=None) -> Suspicion | None:
        """The last suspicion strictly before ``frame`` (of ``kinds``, default all; naming one of
        ``individuals``, default any), or None."""
        wanted = self._kinds(kinds)
        return next(
            (
                s
                for s in reversed(self.suspicious())
                if s.frame < frame and s.kind in wanted and self._involves(s, individuals)
            ),
            None,
        )

    def __repr__(self) -> str:
        name = self.path.name if self.path else "(no file)"
        return (
            f"TrackEditor({name}: {self.n_frames} frames, tracks {self.individuals}, {len(self._undo)} edit(s)"
            f"{', unsaved' if self.dirty else ''})"
        )


def load_track_editor(
    config, video, shuffle: int = 1, trainingsetindex: int = 0, destfolder=None, tracked=None
) -> TrackEditor:
    """A :class:`TrackEditor` on the tracked file of ``video``: ``tracked`` if given, else
    ``<stem>DLC_<scorer>_el.h5`` of this project and shuffle in ``destfolder`` (default: the video's folder),
    found like the other post-processing steps do (the newest when several models analysed the video).

    Raises :class:`LabelError` naming the file looked for and what to run when there is none.
    """
    from posenb.post._common import find_analysis_file  # noqa: PLC0415
    from posenb.project.config import read_config  # noqa: PLC0415
    from posenb.project.paths import video_stem  # noqa: PLC0415

    if tracked is not None:
        return TrackEditor.load(tracked, video=video)
    cfg = read_config(config)
    if not cfg.get("multianimalproject"):
        raise ConfigError(
            f"{config}: track proofreading is for multi-animal projects (multianimalproject: true)."
        )
    video = Path(video)
    folder = Path(destfolder) if destfolder is not None else video.parent
    try:
        path = find_analysis_file(cfg, video, shuffle, trainingsetindex, destfolder=destfolder)
    except LabelError as exc:
        stem, text = video_stem(video), str(exc)
        others = " " + text[text.index("Found files") :] if "Found files" in text else ""
        raise LabelError(
            f"No tracked file {stem}DLC_..{cfg['Task']}{cfg['date']}shuffle{shuffle}_..{tracker_suffix(cfg)}.h5 "
            f"for video "
            f"{video.name} in {folder}. Run posenb.analyze_videos(config, ['{video}'], shuffle={shuffle}, "
            f"auto_track=True) (or convert_detections2tracklets then stitch_tracklets) first, or pass "
            f"tracked='<path of the tracked .h5>'.{others}"
        ) from None
    return TrackEditor.load(path, video=video)
