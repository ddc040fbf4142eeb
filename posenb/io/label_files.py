"""The label files of one ``labeled-data/<stem>/`` folder and the images that have a row in them.

Human labels ``CollectedData_<scorer>.h5`` (or its ``.csv`` when there is no ``.h5``) and machine labels
``machinelabels*.h5`` (outlier extraction). :class:`posenb.io.label_folder.LabelFolder` holds the human labels as
arrays; this module answers the lighter question "which images are taken", asked by ``extract_frames`` and
``extract_outlier_frames`` so that they never pick a frame again. pandas is imported only when a label file exists
(an extraction process on a fresh folder stays light).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["label_files", "label_file_rows"]


def label_files(folder: str | os.PathLike) -> list[Path]:
    """The folder's label files: ``CollectedData_*.h5``, ``machinelabels*.h5``, and ``CollectedData_*.csv`` whose
    ``.h5`` is missing; ``[]`` for a folder that does not exist."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    files = sorted(folder.glob("CollectedData_*.h5")) + sorted(folder.glob("machinelabels*.h5"))
    return files + [
        c for c in sorted(folder.glob("CollectedData_*.csv")) if not c.with_suffix(".h5").exists()
    ]


def label_file_rows(folder: str | os.PathLike) -> set[str]:
    """Image file names (``img042.png``) that have a row in any of the folder's label files.

    An unreadable file is reported (printed, naming it) and skipped: its images are then protected only by their
    PNG files, and extraction goes on.
    """
    names: set[str] = set()
    for table in label_files(folder):
        from posenb.io.labels import guarantee_multiindex_rows, read_hdf_any, read_labels  # noqa: PLC0415

        try:
            if table.suffix == ".csv":
                index = read_labels(table).index
            else:
                index = guarantee_multiindex_rows(read_hdf_any(table)).index
        except Exception as exc:  # noqa: BLE001 - a broken label file must not stop extraction
            print(
                f"Warning: could not read {table} ({exc}); its frames are protected by their PNG files only."
            )
            continue
        for row in index:
            names.add(
                str(row[-1] if isinstance(row, tuple) else str(row).replace("\\", "/").rsplit("/", 1)[-1])
            )
    return names
