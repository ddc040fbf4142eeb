"""``TrainingSetPanel``: the "Training set" tab: ``posenb.create_training_dataset`` from the dashboard.

The panel gathers the split (config ``TrainingFraction``, one or more fractions), the shuffle indices and the
network, says which existing shuffles would be replaced (and does nothing until "Replace existing shuffles" is
ticked), then calls ``create_training_dataset`` in a background thread and lists the shuffles written. A changed
``TrainingFraction`` is saved in config.yaml first (it is the project's setting ``create_training_dataset``
reads, as in DeepLabCut). Listeners registered with ``on_project`` are told afterwards, so the Train, Evaluate
and Analyze tabs see the new shuffles.
"""

from __future__ import annotations

import html
import os
from pathlib import Path

import ipywidgets as widgets

from posenb.errors import ConfigError, PosenbError
from posenb.widgets._actions import ActionRunner, status_html
from posenb.widgets._panel import Panel

__all__ = ["TrainingSetPanel", "parse_fractions", "parse_shuffles"]


def parse_fractions(text: str) -> list[float]:
    """``"0.8, 0.95"`` -> ``[0.8, 0.95]``; each in (0, 1]; :class:`ConfigError` naming the bad value otherwise."""
    out = []
    for item in str(text).replace(";", ",").split(","):
        item = item.strip()
        if not item:
            continue
        try:
            value = float(item)
        except ValueError:
            raise ConfigError(f"Train fraction {item!r} is not a number (e.g. 0.95).") from None
        if not 0 < value <= 1:
            raise ConfigError(f"Train fraction {value:g} must be above 0 and at most 1 (e.g. 0.95).")
        out.append(value)
    if not out:
        raise ConfigError("Give at least one train fraction (e.g. 0.95).")
    return list(dict.fromkeys(out))


def parse_shuffles(text: str) -> list[int]:
    """``"1"``, ``"1, 2"`` or ``"1-3"`` -> shuffle indices (>= 1); :class:`ConfigError` otherwise."""
    out: list[int] = []
    for item in str(text).replace(";", ",").split(","):
        item = item.strip()
        if not item:
            continue
        try:
            if "-" in item:
                a, b = (int(x) for x in item.split("-", 1))
                out.extend(range(a, b + 1))
            else:
                out.append(int(item))
        except ValueError:
            raise ConfigError(f"Shuffle {item!r}: write whole numbers, e.g. '1' or '1, 2' or '1-3'.") from None
    if not out or min(out) < 1:
        raise ConfigError("Shuffles are whole numbers from 1 (e.g. '1' or '1-3').")
    return list(dict.fromkeys(out))


class TrainingSetPanel(Panel):
    """Create a project's training set and shuffles (``posenb.create_training_dataset``).

    ``on_project(callback)`` registers ``callback(config_path)``, called after a training set was written.
    """

    def __init__(self, config: str | os.PathLike | None = None):
        super().__init__()
        self.add_class("posenb-trainingset-panel")
        self.cfg: dict = {}
        self.result = None
        L = widgets.Layout
        self.summary = widgets.HTML("No project open.")
        self.summary.add_class("posenb-trainingset-summary")
        self.fractions = widgets.Text(
            value="0.95",
            description="Train fraction",
            tooltip="config.yaml TrainingFraction: share of the labeled frames used for training (rest: test)",
            layout=L(width="260px"),
        )
        self.shuffles = widgets.Text(
            value="1", description="Shuffles", tooltip="shuffle indices, e.g. 1 or 1, 2 or 1-3", layout=L(width="220px")
        )
        self.net_type = widgets.Dropdown(description="Network", options=[], layout=L(width="320px"))
        self.replace = widgets.Checkbox(value=False, description="Replace existing shuffles", indent=False)
        self.create_button = widgets.Button(
            description="Create training dataset", icon="database", button_style="primary", layout=L(width="220px")
        )
        self.status = widgets.HTML()
        self.results = widgets.HTML()
        for w, cls in (
            (self.fractions, "fractions"),
            (self.shuffles, "shuffles"),
            (self.net_type, "net-type"),
            (self.replace, "replace"),
            (self.create_button, "create"),
            (self.status, "status"),
            (self.results, "results"),
        ):
            w.add_class(f"posenb-trainingset-{cls}")
        self.status.add_class("posenb-status")
        for w in (self.fractions, self.shuffles):
            w.style.description_width = "100px"
        self.net_type.style.description_width = "100px"
        self._actions = ActionRunner(self._set_status, (self.create_button,), name="posenb-trainingset")
        self.create_button.on_click(lambda _b: self.create())
        self.fractions.observe(lambda _c: self._show_existing(), "value")
        self.shuffles.observe(lambda _c: self._show_existing(), "value")
        hint = widgets.HTML(
            "<small>Every train fraction is split with every shuffle index (DeepLabCut's TrainingFraction); the "
            "network is the backbone the Train tab will train.</small>"
        )
        self.children = [
            self.summary,
            widgets.HBox([self.fractions, self.shuffles, self.net_type]),
            hint,
            widgets.HBox([self.create_button, self.replace]),
            self.status,
            self.results,
        ]
        if config is not None:
            self.set_config(config)

    # ------------------------------------------------------------------ project
    def set_config(self, config: str | os.PathLike) -> None:
        """Show project ``config``: its labels, its training sets, its settings in the form."""
        self.load_config(config)
        self.fractions.value = ", ".join(f"{v:g}" for v in self.cfg.get("TrainingFraction") or [0.95])
        from posenb.project.config import resolve_net_type  # noqa: PLC0415

        net = resolve_net_type(self.cfg)[0]  # posenb.yaml's choice, else posenb's default (not DLC's resnet_50)
        options = list(dict.fromkeys([net, *self.net_type.options]))
        self.net_type.options = options
        self.net_type.value = net
        self._refresh_summary()
        self._show_existing()
        self._offer_networks()

    def _offer_networks(self) -> None:
        """Fill the network menu from the backbone registry (imports torch: in the background, once)."""
        import threading

        def fill():
            try:
                from posenb.nn._registry import list_backbones

                names = list_backbones()
            except Exception:  # noqa: BLE001 - the menu keeps the project's default network
                return
            current = self.net_type.value
            with self.net_type.hold_trait_notifications():
                self.net_type.options = list(dict.fromkeys(([current] if current else []) + names))
                if current:
                    self.net_type.value = current

        threading.Thread(target=fill, daemon=True, name="posenb-list-backbones").start()

    def _refresh_summary(self) -> None:
        from posenb.project.status import project_status

        try:
            s = project_status(self.config)
        except (PosenbError, OSError) as exc:
            self.summary.value = status_html(str(exc), "error")
            return
        human = sum(f.n_labeled for f in s.folders)
        sets = "".join(
            f"<br>&nbsp;&nbsp;iteration {t.iteration}: train {t.train_pct}% shuffle {t.shuffle}"
            for t in s.training_sets
        )
        self.summary.value = (
            f"<b>{html.escape(s.task)}</b> · iteration {s.iteration} · <b>{human}</b> labeled frame(s) in "
            f"{len(s.folders)} folder(s)<br>Training sets: {len(s.training_sets) or 'none yet'}{sets}"
        )

    def _existing(self, fractions: list[float], shuffles: list[int]) -> list[Path]:
        from posenb.project.paths import get_model_folder

        project = Path(self.cfg["project_path"])
        out = []
        for f in fractions:
            for k in shuffles:
                folder = project / get_model_folder(f, k, self.cfg)
                if (folder / "train" / "pose_cfg.yaml").is_file():
                    out.append(folder)
        return out

    def _show_existing(self) -> None:
        if not self.cfg:
            return
        try:
            existing = self._existing(parse_fractions(self.fractions.value), parse_shuffles(self.shuffles.value))
        except ConfigError as exc:
            self._set_status(str(exc), "error")
            return
        if existing:
            names = ", ".join(f.name for f in existing)
            self._set_status(
                f"Exists already: {names}. Tick 'Replace existing shuffles' to write it again (its snapshots stay).",
                "warning",
            )
        else:
            self._set_status("")

    # ------------------------------------------------------------------ action
    def create(self, background: bool = True) -> None:
        """Check the form, save a changed TrainingFraction, then ``create_training_dataset`` (in a thread)."""
        from posenb.project.config import read_config, write_config

        if self.config is None:
            self._set_status("Open or create a project first (Project tab).", "warning")
            return
        try:
            fractions = parse_fractions(self.fractions.value)
            shuffles = parse_shuffles(self.shuffles.value)
        except ConfigError as exc:
            self._set_status(f"Nothing created: {exc}", "error")
            return
        self.cfg = read_config(self.config)
        existing = self._existing(fractions, shuffles)
        if existing and not self.replace.value:
            self._set_status(
                f"Nothing created: {', '.join(f.name for f in existing)} exists. Tick 'Replace existing "
                "shuffles' to write it again, or choose other shuffle indices.",
                "warning",
            )
            return
        net = self.net_type.value or None
        config = self.config

        def work():
            import posenb

            cfg = read_config(config)
            if [float(v) for v in cfg.get("TrainingFraction") or []] != fractions:
                cfg["TrainingFraction"] = fractions
                write_config(config, cfg)
            return posenb.create_training_dataset(config, Shuffles=shuffles, net_type=net)

        self._actions.run("Creating the training dataset", work, after=self._created, background=background)

    def _created(self, splits) -> None:
        self.result = splits
        rows = [
            f"<tr><td>train {f * 100:g}%</td><td>shuffle {k}</td><td>{len(tr)}</td><td>{len(te)}</td></tr>"
            for f, k, tr, te in splits
        ]
        self.results.value = (
            "<table class='posenb-trainingset-table' cellpadding='4'><tr><th>split</th><th>shuffle</th>"
            "<th>train images</th><th>test images</th></tr>" + "".join(rows) + "</table>"
        )
        self._set_status(
            f"Created {len(splits)} shuffle(s) with network {self.net_type.value}. Next: the Train tab.", "ok"
        )
        from posenb.project.config import read_config

        self.cfg = read_config(self.config)
        self._refresh_summary()
        self._notify_project()

    def wait(self, timeout: float | None = None) -> bool:
        return self._actions.wait(timeout)
