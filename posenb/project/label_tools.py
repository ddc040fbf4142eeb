"""DeepLabCut's label-file helpers (2.x public API), working the same way on ``labeled-data/<stem>/`` folders.

Every rewrite of a label table goes through :func:`posenb.io.labels.write_labels` (``.h5`` with key
``df_with_missing`` plus ``.csv``, atomic, previous files kept as ``*.bak``); a folder whose table would not change
is not rewritten. Folders are those of the config's ``video_sets`` (matched by video stem), as in DeepLabCut.
Single- and multi-animal tables (3 or 4 column levels) alike. These helpers work on the raw table (row order and
duplicate rows as stored, which they exist to repair), so they use :mod:`posenb.io.labels` directly rather than the
label-folder model (:class:`posenb.io.label_folder.LabelFolder`, one row per image).

- :func:`convertcsv2h5`: ``CollectedData_<scorer>.csv`` (edited by hand) -> ``.h5`` + normalised ``.csv``.
- :func:`dropduplicatesinannotatinfiles`: duplicate image rows (the first one is kept).
- :func:`dropannotationfileentriesduetodeletedimages`: rows whose PNG no longer exists.
- :func:`dropunlabeledframes`: rows without any label (all NaN).
- :func:`dropimagesduetolackofannotation`: deletes the PNGs that have no row in the label file (asks first).
- :func:`comparevideolistsanddatafolders`, :func:`adddatasetstovideolistandviceversa`: ``video_sets`` vs folders.
- :func:`confirm`: the yes/no prompt of ``userfeedback=True`` arguments; never blocks without an interactive input.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from posenb.errors import LabelError
from posenb.io.label_arrays import LEVELS3, LEVELS4
from posenb.io.labels import guarantee_multiindex_rows, labels_path, read_hdf_any, read_labels, write_labels
from posenb.io.prompt import ask_yes_no

__all__ = [
    "confirm",
    "label_folders",
    "convertcsv2h5",
    "dropduplicatesinannotatinfiles",
    "dropannotationfileentriesduetodeletedimages",
    "dropunlabeledframes",
    "comparevideolistsanddatafolders",
    "adddatasetstovideolistandviceversa",
    "dropimagesduetolackofannotation",
]


def confirm(question: str) -> bool:
    """Ask ``question`` (yes/no) and return True for yes (:func:`posenb.io.prompt.ask_yes_no`).

    Without an interactive input (CI, a script with redirected stdin, a kernel front end without stdin such as
    Voila or nbclient) the answer is yes, and the message says so: nothing ever hangs waiting for input.
    """
    return ask_yes_no(question, without_input=True, skip_hint="pass userfeedback=False to skip this question")


def _project(config: str | os.PathLike) -> tuple[dict, Path]:
    from posenb.project.config import read_config

    cfg = read_config(config)
    return cfg, Path(cfg["project_path"])


def label_folders(project: str | os.PathLike) -> list[str]:
    """Names of the folders in ``<project>/labeled-data`` (skipping ``*_labeled`` outputs and dot-folders): the
    label-folder model's :func:`posenb.io.label_folder.list_label_folders`."""
    from posenb.io.label_folder import list_label_folders  # noqa: PLC0415

    return list_label_folders(project)


def _video_stems(cfg: dict) -> list[str]:
    from posenb.project.paths import video_stem

    videos = cfg.get("video_sets") or {}
    return list(dict.fromkeys(video_stem(v) for v in videos))


def _read_raw(path: Path) -> pd.DataFrame:
    """A label table as stored (row order kept, rows normalised to 3-tuples, float64)."""
    from posenb.io.labels import _read_csv

    df = _read_csv(path) if path.suffix.lower() == ".csv" else read_hdf_any(path)
    if not isinstance(df.columns, pd.MultiIndex) or df.columns.nlevels not in (3, 4):
        raise LabelError(
            f"{path}: expected 3 column levels (scorer, bodyparts, coords) or 4 (scorer, individuals, bodyparts, "
            f"coords), found {df.columns.nlevels}."
        )
    df.columns = df.columns.set_names(LEVELS4 if df.columns.nlevels == 4 else LEVELS3)
    df = guarantee_multiindex_rows(df)
    try:
        return df.astype("float64")
    except (TypeError, ValueError) as exc:
        raise LabelError(f"{path}: label values must be numbers ({exc}).") from None


def _folder_tables(cfg: dict, project: Path):
    """Yield ``(stem, h5 path, raw table)`` per video_sets folder holding ``CollectedData_<scorer>`` (h5, else csv)."""
    for stem in _video_stems(cfg):
        h5 = labels_path(project, stem, cfg["scorer"])
        source = h5 if h5.is_file() else h5.with_suffix(".csv")
        if not source.is_file():
            print(f"Attention: {h5.parent} does not appear to have labeled data (no {h5.name})!")
            continue
        yield stem, h5, _read_raw(source)


def convertcsv2h5(
    config: str | os.PathLike, userfeedback: bool = True, scorer: str | None = None
) -> list[Path]:
    """Convert each folder's ``CollectedData_<cfg scorer>.csv`` into ``.h5`` (and a normalised ``.csv``).

    Both CSV index forms are read (one column ``labeled-data/<stem>/img.png``, Windows separators included, or
    three columns); the ``scorer`` column level is set to ``scorer`` (default: the config's scorer) and the files are
    written under the config scorer's name (DLC's behaviour). With ``userfeedback`` each folder is confirmed first.
    Returns the ``.h5`` files written.
    """
    from posenb.io.labels import settle_labels  # noqa: PLC0415

    cfg, project = _project(config)
    scorer = scorer or cfg["scorer"]
    written = []
    for stem in _video_stems(cfg):
        csv = labels_path(project, stem, cfg["scorer"], ".csv")
        if userfeedback and not confirm(f"Do you want to convert the csv file in folder: {csv.parent}?"):
            continue
        if not csv.is_file():
            print(f"Attention: {csv.parent} does not appear to have labeled data (no {csv.name})!")
            continue
        settle_labels(csv)  # a save killed between its .h5 and .csv: the .csv is made from the .h5 first
        df = read_labels(csv)
        df.columns = pd.MultiIndex.from_tuples(
            [(scorer, *rest) for _, *rest in df.columns], names=df.columns.names
        )  # 3 or 4 levels (multi-animal)
        written.append(write_labels(df, csv.with_suffix(".h5")))
    return written


def _rewrite(h5: Path, before: pd.DataFrame, after: pd.DataFrame, what: str) -> int:
    n = len(before) - len(after)
    if n:
        print(f"{h5.parent.name}: dropped {n} {what}.")
        write_labels(after, h5)
    return n


def dropduplicatesinannotatinfiles(config: str | os.PathLike) -> dict[str, int]:
    """Drop duplicate image rows of every label file, keeping the first; returns ``{stem: rows dropped}``."""
    cfg, project = _project(config)
    out = {}
    for stem, h5, df in _folder_tables(cfg, project):
        out[stem] = _rewrite(h5, df, df[~df.index.duplicated(keep="first")], "duplicate rows")
    return out


def dropannotationfileentriesduetodeletedimages(config: str | os.PathLike) -> dict[str, int]:
    """Drop the label rows whose image file was deleted; returns ``{stem: rows dropped}``."""
    cfg, project = _project(config)
    out = {}
    for stem, h5, df in _folder_tables(cfg, project):
        exists = [project.joinpath(*[str(p) for p in row]).is_file() for row in df.index]
        for row, ok in zip(df.index, exists):
            if not ok:
                print(f"Dropping... {'/'.join(map(str, row))} (image not found)")
        out[stem] = _rewrite(h5, df, df[exists], "rows of deleted images")
    return out


def dropunlabeledframes(config: str | os.PathLike) -> dict[str, int]:
    """Drop the rows without any label (all coordinates NaN); returns ``{stem: rows dropped}``."""
    cfg, project = _project(config)
    out = {}
    for stem, h5, df in _folder_tables(cfg, project):
        out[stem] = _rewrite(h5, df, df.dropna(how="all"), "unlabeled rows")
    return out


def comparevideolistsanddatafolders(config: str | os.PathLike) -> tuple[list[str], list[str]]:
    """Print and return ``(video_sets stems without a labeled-data folder, folders without a video_sets entry)``."""
    cfg, project = _project(config)
    stems = _video_stems(cfg)
    folders = label_folders(project)
    print(f"Config file contains: {len(stems)}")
    print(f"Labeled-data contains: {len(folders)}")
    no_folder = [s for s in stems if s not in folders]
    no_video = [f for f in folders if f not in stems]
    for s in no_folder:
        print(f"{s} is missing as a folder!")
    for f in no_video:
        print(f"{f} is missing in config file!")
    return no_folder, no_video


def adddatasetstovideolistandviceversa(config: str | os.PathLike) -> tuple[list[str], list[str]]:
    """Make ``video_sets`` match ``labeled-data``.

    Removes ``video_sets`` entries without a folder, and adds an entry (full-frame crop) for each folder whose video
    is found in ``<project>/videos``. config.yaml is rewritten (atomically, previous kept as ``config.yaml.bak``)
    only when something changed. Returns ``(removed video paths, added video paths)``.
    """
    from posenb.io.video import probe_video
    from posenb.project.config import format_crop, write_config
    from posenb.project.paths import VIDEO_EXTENSIONS, video_stem

    cfg, project = _project(config)
    video_sets = cfg.get("video_sets") or {}
    folders = label_folders(project)
    removed = [v for v in video_sets if video_stem(v) not in folders]
    for v in removed:
        print(f"{video_stem(v)} is missing as a labeled folder >> removing from list!")
        del video_sets[v]
    stems = {video_stem(v) for v in video_sets}
    added = []
    vdir = project / "videos"
    for folder in folders:
        if folder in stems:
            continue
        candidates = sorted(
            f
            for f in (vdir.iterdir() if vdir.is_dir() else [])
            if f.stem == folder and f.suffix.lower() in VIDEO_EXTENSIONS
        )
        if not candidates:
            print(f"{folder} is missing in config file, and no video {folder}.* is in {vdir}: not added.")
            continue
        print(f"{folder} is missing in config file >> adding it to list!")
        width, height, _ = probe_video(candidates[0])
        video_sets[str(candidates[0])] = {"crop": format_crop(0, width, 0, height)}
        added.append(str(candidates[0]))
    if removed or added:
        cfg["video_sets"] = video_sets
        write_config(Path(project) / "config.yaml" if Path(config).is_dir() else config, cfg)
    return removed, added


def dropimagesduetolackofannotation(
    config: str | os.PathLike, userfeedback: bool = True
) -> dict[str, list[Path]]:
    """Delete the PNG images of ``labeled-data/<stem>/`` that have no row in the folder's ``CollectedData`` file.

    This deletes files, so:

    - a folder without ``CollectedData_<scorer>.h5`` (or ``.csv``) is never touched, nor are ``*_labeled`` folders
      (check_labels output), nor a folder whose label file has no row at all; an unreadable label file raises
      :class:`~posenb.errors.LabelError` before anything is deleted;
    - an image is kept when any row of the table names it (its file name, DLC's rule), labeled or not (rows
      without labels are :func:`dropunlabeledframes`'s business);
    - with ``userfeedback`` (default) each folder's deletion is confirmed with :func:`confirm` (a yes/no question;
      without an interactive input the answer is yes, as in the other helpers). Pass ``userfeedback=False`` to
      skip the question.

    Folders are those of the config's ``video_sets`` (by stem), as in DeepLabCut. Returns ``{stem: [deleted
    paths]}`` for every folder with a label file (empty list: nothing deleted).
    """
    cfg, project = _project(config)
    tables = [(stem, h5, df) for stem, h5, df in _folder_tables(cfg, project) if "_labeled" not in stem]
    out: dict[str, list[Path]] = {}
    for stem, h5, df in tables:
        folder = h5.parent
        annotated = {str(row[-1]) for row in df.index}
        images = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".png")
        orphans = [p for p in images if p.name not in annotated]
        print(f"{folder}: {len(annotated)} annotated images, {len(images)} images in the folder.")
        out[stem] = []
        if not orphans:
            continue
        if not len(df):
            print(f"{h5} has no rows: nothing deleted (an empty label file would delete every image).")
            continue
        if userfeedback and not confirm(
            f"Delete {len(orphans)} image(s) without a row in {h5.name} from {folder}"
            f" ({', '.join(p.name for p in orphans[:5])}{', ...' if len(orphans) > 5 else ''})?"
        ):
            continue
        for p in orphans:
            print(f"Deleting {p}")
            p.unlink()
            out[stem].append(p)
    return out
