"""DeepLabCut's naming rules: project, training-set, model and evaluation folders, scorer strings, frame names.

All folder helpers return paths *relative* to the project folder, as DeepLabCut's do; join them with
``cfg["project_path"]``.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable
from pathlib import Path

from posenb.errors import ConfigError

__all__ = [
    "VIDEO_EXTENSIONS",
    "train_fraction_pct",
    "get_training_set_folder",
    "get_data_and_metadata_filenames",
    "parse_training_set_file",
    "get_model_folder",
    "parse_model_folder",
    "get_train_dir",
    "get_labeling_model_dir",
    "snapshot_number",
    "get_evaluation_folder",
    "net_short_name",
    "get_scorer_name",
    "scorer_pattern",
    "video_stem",
    "frame_name",
    "frame_index",
    "list_videos",
    "resolve_video",
    "find_video_for_stem",
    "project_date",
    "project_folder_name",
    "project_folder_problem",
    "name_problem",
    "check_name",
    "check_path_component",
    "ensure_folder",
]

#: Longest project / experimenter / camera name accepted (the project folder joins two of them and a date).
MAX_NAME_LENGTH = 100


def name_problem(value, what: str = "Name") -> str | None:
    """Why ``value`` cannot be a new project, experimenter or camera name (None if it can).

    The one rule for names that become parts of folder and file names, in 2D and 3D projects and in the
    panels: a non-empty string of letters, digits, ``_`` and ``-`` (at most :data:`MAX_NAME_LENGTH` characters).
    So ``..``, ``a/b``, ``C:\\x`` or a name with spaces can never lead a folder outside the working directory.
    """
    if not isinstance(value, str) or not value:
        return f"{what} {value!r}: give a non-empty name of letters, digits, '_' or '-'."
    if not value.replace("_", "").replace("-", "").isalnum():
        return f"{what} {value!r}: use letters, digits, '_' or '-' only (it becomes part of folder and file names)."
    if len(value) > MAX_NAME_LENGTH:
        return f"{what} {value[:20]!r}...: at most {MAX_NAME_LENGTH} characters."
    return None


def check_name(value, what: str = "Name") -> str:
    """``value`` if :func:`name_problem` finds nothing, else :class:`~posenb.errors.ConfigError` saying why."""
    problem = name_problem(value, what)
    if problem:
        raise ConfigError(problem)
    return value


def check_path_component(value, where: str) -> None:
    """Refuse a name read from an existing config.yaml that would lead a path out of its folder.

    Lenient (DeepLabCut never restricted names, so spaces and dots stay allowed): refused are empty names,
    ``.``, ``..`` and names holding ``/``, ``\\`` or NUL. Raises :class:`~posenb.errors.ConfigError` naming ``where``.
    """
    text = str(value) if value is not None else ""
    if not text.strip() or text in (".", "..") or any(c in text for c in "/\\\0"):
        raise ConfigError(
            f"{where} is {value!r}: it is used in folder and file names and may not be empty, '.', '..' or hold "
            "'/' or '\\'. Fix config.yaml (a project from someone else may have been tampered with)."
        )


def ensure_folder(path: str | os.PathLike, what: str = "destfolder") -> Path:
    """Create folder ``path`` (with parents) and return it; :class:`~posenb.errors.ConfigError` naming it when
    it (or a parent) is a file or cannot be created, instead of a raw ``FileExistsError``."""
    path = Path(path).expanduser()
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{what} {path} is a file, not a folder. Pass a folder (it is created if missing).")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise ConfigError(
            f"{what} {path}: a part of this path is a file, not a folder. Pass another folder."
        ) from None
    except OSError as exc:
        raise ConfigError(f"{what} {path} cannot be created ({exc.strerror or exc}).") from None
    return path


VIDEO_EXTENSIONS = (".avi", ".mp4", ".mov", ".mpeg", ".mpg", ".mpv", ".mkv", ".flv", ".qt", ".yuv", ".m4v")


def project_date(today=None) -> str:
    """DLC's ``date`` key: English 3-letter month + day without zero pad, e.g. ``Oct30``, ``Jan5``."""
    import datetime as _dt

    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    today = today or _dt.date.today()
    return f"{months[today.month - 1]}{today.day}"


def project_folder_name(project: str, experimenter: str, today=None, suffix: str = "") -> str:
    """The folder of a new project: ``<project>-<experimenter>-<YYYY-MM-DD><suffix>`` (``suffix="-3d"`` for 3D).

    The one rule, used by ``create_new_project``, ``create_new_project_3d`` and the project wizard.
    """
    import datetime as _dt

    today = today or _dt.date.today()
    return f"{project}-{experimenter}-{today.isoformat()}{suffix}"


def project_folder_problem(project_dir: str | os.PathLike) -> str | None:
    """Why a new project cannot go into ``project_dir`` (None if it can): a non-empty folder without a
    config.yaml. An existing project (with config.yaml) is no problem: ``create_new_project`` returns it unchanged.
    """
    folder = Path(project_dir)
    if folder.is_dir() and not (folder / "config.yaml").exists() and any(folder.iterdir()):
        return f"{folder} exists and is not a posenb/DeepLabCut project (no config.yaml); choose another name or folder."
    return None


def train_fraction_pct(fraction: float) -> int:
    """``int(100 * fraction)`` (truncation, as DLC: 0.95 -> 95, 0.29 -> 28)."""
    return int(100 * fraction)


def get_training_set_folder(cfg: dict) -> Path:
    """``training-datasets/iteration-N/UnaugmentedDataSet_<Task><date>``."""
    return (
        Path("training-datasets")
        / f"iteration-{cfg['iteration']}"
        / f"UnaugmentedDataSet_{cfg['Task']}{cfg['date']}"
    )


def get_data_and_metadata_filenames(training_set_folder: Path, fraction: float, shuffle: int, cfg: dict):
    """(``<Task>_<scorer><pct>shuffle<k>.mat``, ``Documentation_data-<Task>_<pct>shuffle<k>.pickle``) paths."""
    pct = train_fraction_pct(fraction)
    data = Path(training_set_folder) / f"{cfg['Task']}_{cfg['scorer']}{pct}shuffle{shuffle}.mat"
    meta = Path(training_set_folder) / f"Documentation_data-{cfg['Task']}_{pct}shuffle{shuffle}.pickle"
    return data, meta


_TRAINING_SET_FILE = re.compile(r"^Documentation_data-(.+)_(\d+)shuffle(\d+)\.pickle$")


def parse_training_set_file(name: str) -> tuple[str, int, int] | None:
    """``(Task, train_pct, shuffle)`` of a ``Documentation_data-<Task>_<pct>shuffle<k>.pickle`` file name (the
    inverse of :func:`get_data_and_metadata_filenames`' second path), or None for any other name."""
    m = _TRAINING_SET_FILE.match(Path(str(name)).name)
    return (m.group(1), int(m.group(2)), int(m.group(3))) if m else None


def _model_folder_name(train_fraction: float, shuffle: int, cfg: dict) -> str:
    """``<Task><date>-trainset<pct>shuffle<k>``: the model folder and the evaluation folder of a shuffle."""
    return f"{cfg['Task']}{cfg['date']}-trainset{train_fraction_pct(train_fraction)}shuffle{shuffle}"


def get_model_folder(train_fraction: float, shuffle: int, cfg: dict, modelprefix: str = "") -> Path:
    """``dlc-models/iteration-N/<Task><date>-trainset<pct>shuffle<k>``."""
    name = _model_folder_name(train_fraction, shuffle, cfg)
    return Path(modelprefix) / "dlc-models" / f"iteration-{cfg['iteration']}" / name


_MODEL_FOLDER = re.compile(r"-trainset(\d+)shuffle(\d+)$")


def parse_model_folder(name: str) -> tuple[int, int] | None:
    """``(train_pct, shuffle)`` of a model folder name ``<Task><date>-trainset<pct>shuffle<k>`` (the inverse of
    :func:`get_model_folder`), or None for any other name."""
    m = _MODEL_FOLDER.search(str(name))
    return (int(m.group(1)), int(m.group(2))) if m else None


def get_train_dir(cfg: dict, shuffle: int = 1, trainingsetindex: int = 0) -> tuple[Path, float]:
    """``(<project>/dlc-models/.../train, train_fraction)`` of a shuffle (ConfigError on a bad index)."""
    fractions = cfg["TrainingFraction"]
    if not 0 <= int(trainingsetindex) < len(fractions):
        from posenb.errors import ConfigError  # noqa: PLC0415

        raise ConfigError(
            f"trainingsetindex={trainingsetindex} is out of range: config.yaml has TrainingFraction {fractions}."
        )
    fraction = fractions[int(trainingsetindex)]
    model_dir = Path(cfg["project_path"]) / get_model_folder(fraction, shuffle, cfg)
    return model_dir / "train", fraction


def get_labeling_model_dir(cfg: dict) -> Path:
    """``<project>/labeling-model``: the model folder (``train/``, ``test/``) of the labeler's suggestion model.

    Kept apart from ``training-datasets/`` and ``dlc-models/`` (posenb.train.labeling_model), so updating it never
    touches a shuffle's training set, split or snapshots.
    """
    return Path(cfg["project_path"]) / "labeling-model"


def get_evaluation_folder(train_fraction: float, shuffle: int, cfg: dict, modelprefix: str = "") -> Path:
    """``evaluation-results/iteration-N/<Task><date>-trainset<pct>shuffle<k>``."""
    name = _model_folder_name(train_fraction, shuffle, cfg)
    return Path(modelprefix) / "evaluation-results" / f"iteration-{cfg['iteration']}" / name


def net_short_name(net_type: str) -> str:
    """DLC's network part of the scorer: resnet_50 -> resnet50, mobilenet_v2_0.35 -> mobnet_35, efficientnet-b0 -> effnet_b0."""
    if net_type.startswith("mobilenet_v2_"):
        width = float(net_type.rsplit("_", 1)[1])
        return f"mobnet_{int(round(width * 100))}"
    if net_type.startswith("efficientnet-"):
        return "effnet_" + net_type.split("-", 1)[1]
    return net_type.replace("_", "")


def get_scorer_name(
    cfg: dict, shuffle: int, train_fraction: float, net_type: str, iterations: int | str
) -> str:
    """DLC 2.x scorer string: ``DLC_<net>_<Task><date>shuffle<k>_<iterations>``.

    ``train_fraction`` is accepted for DLC's signature; like DLC, the string does not contain it.
    """
    return f"DLC_{net_short_name(net_type)}_{scorer_pattern(cfg, shuffle)}{iterations}"


def scorer_pattern(cfg: dict, shuffle: int = 1) -> str:
    """The part of every scorer string of this project and shuffle: ``<Task><date>shuffle<k>_``.

    It is common to DLC 2.x (``DLC_resnet50_<Task><date>shuffle1_1030000``), DLC 3.0
    (``DLC_Resnet50_<Task><date>shuffle1_snapshot_200``) and posenb scorer strings; the network name and the
    snapshot number around it vary.
    """
    return f"{cfg['Task']}{cfg['date']}shuffle{int(shuffle)}_"


def video_stem(path: str | os.PathLike) -> str:
    """The file name without extension; videos and label folders are matched by stem, never by full path."""
    return Path(str(path).replace("\\", "/")).stem


def frame_name(index: int, n_frames: int) -> str:
    """DLC's frame file name: ``img`` + index zero-padded to ``ceil(log10(n_frames))`` digits + ``.png``."""
    width = max(1, int(math.ceil(math.log10(n_frames)))) if n_frames > 1 else 1
    return f"img{int(index):0{width}d}.png"


def frame_index(name: str) -> int | None:
    """Inverse of :func:`frame_name`: ``img0042.png`` -> 42 (None for other names)."""
    stem = Path(name).stem
    if stem.startswith("img") and stem[3:].isdigit():
        return int(stem[3:])
    return None


def list_videos(videos: str | os.PathLike | Iterable, videotype: str | Iterable[str] = "") -> list[Path]:
    """Expand a video path, a directory, or a list of both into video files.

    Directories are scanned (not recursively) for files whose extension is ``videotype`` (one or several,
    with or without the dot) or, when ``videotype`` is empty, any known video extension. Files named with
    ``_labeled.`` or ``_full.`` (posenb/DLC outputs) are skipped in directories.
    """
    if isinstance(videos, (str, os.PathLike)):
        videos = [videos]
    if isinstance(videotype, str):
        exts = (videotype,) if videotype else VIDEO_EXTENSIONS
    else:
        exts = tuple(videotype)
    exts = tuple(e.lower() if e.startswith(".") else "." + e.lower() for e in exts)
    out: list[Path] = []
    for v in videos:
        p = Path(v).expanduser()
        if p.is_dir():
            for f in sorted(p.iterdir()):
                if (
                    f.is_file()
                    and f.suffix.lower() in exts
                    and "_labeled." not in f.name
                    and "_full." not in f.name
                ):
                    out.append(f)
        else:
            out.append(p)
    return out


def resolve_video(cfg: dict, video: str | os.PathLike) -> Path | None:
    """Find a video listed in ``video_sets`` on disk: the path itself, else ``<project>/videos/<name>``."""
    p = Path(str(video))
    if p.exists():
        return p
    project = cfg.get("project_path")
    if project:
        vdir = Path(project) / "videos"
        candidate = vdir / Path(str(video).replace("\\", "/")).name
        if candidate.exists():
            return candidate
        if vdir.is_dir():
            stem = video_stem(video)
            for f in vdir.iterdir():
                if f.stem == stem and f.exists():
                    return f
    return None


def find_video_for_stem(cfg: dict, stem: str) -> Path | None:
    """The video of ``video_sets`` (or ``<project>/videos``) whose stem is ``stem``."""
    for video in cfg.get("video_sets") or {}:
        if video_stem(video) == stem:
            found = resolve_video(cfg, video)
            if found is not None:
                return found
    project = cfg.get("project_path")
    if project and (Path(project) / "videos").is_dir():
        for f in (Path(project) / "videos").iterdir():
            if f.stem == stem and f.exists():
                return f
    return None


_SNAPSHOT_NAME = re.compile(r"^snapshot-(\d+)(\.pt)?")


def snapshot_number(name: str, *, any_file: bool = False) -> int | None:
    """The iteration in a snapshot file name: ``snapshot-1500.pt`` -> 1500; None for any other name.

    ``any_file=True`` also counts the other files of a snapshot (DeepLabCut 2's TensorFlow ``snapshot-1500.index``
    / ``.meta`` / ``.data-*``): what the project status lists as trained iterations.
    """
    m = _SNAPSHOT_NAME.match(name)
    if m is None or not (any_file or (m.group(2) and len(name) == m.end())):
        return None
    return int(m.group(1))
