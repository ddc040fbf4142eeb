"""The Config tab of the project wizard: config.yaml's main values (and posenb.yaml's network) as a form.

:class:`ConfigTab` is the part of :class:`posenb.widgets.wizard.ProjectWizard` that edits an open project's
config: body parts (of every individual, in a multi-animal project, with its individuals and unique parts),
skeleton and the main values, parsed by :func:`~posenb.widgets.wizard_forms.form_to_config`, checked with
``validate_config`` (its ``ConfigError`` text is shown) and saved with ``write_config``. Only the fields the
user changed are written, and only when config.yaml did not change meanwhile in the same key. "net type" is the
network posenb trains (posenb.yaml's ``net_type``), not config.yaml's DeepLabCut ``default_net_type``.
"""

from __future__ import annotations

import copy

import ipywidgets as widgets

from posenb.errors import ConfigError, PosenbError
from posenb.widgets._actions import status_html as _msg
from posenb.widgets.wizard_forms import (
    config_key,
    form_to_config,
    removed_labeled_individuals,
    removed_labeled_parts,
)

__all__ = ["ConfigTab"]


class ConfigTab:
    """Mixin of :class:`~posenb.widgets.wizard.ProjectWizard`: builds and runs the Config tab.

    Uses the wizard's ``cfg`` (the open config dict), ``config_path``, ``refresh_status()`` and ``_notify()``.
    """

    cfg: dict | None
    config_path: str | None

    def _build_edit(self):
        L = widgets.Layout
        self.bodyparts_area = widgets.Textarea(
            description="Body parts", placeholder="one per line", layout=L(width="360px", height="140px")
        )
        self.bodyparts_area.add_class("posenb-bodyparts")
        self.skeleton_area = widgets.Textarea(
            description="Skeleton",
            placeholder="snout, leftear (one bone per line)",
            layout=L(width="360px", height="140px"),
        )
        self.skeleton_area.add_class("posenb-skeleton")
        self.individuals_area = widgets.Textarea(
            description="Individuals", placeholder="one per line", layout=L(width="360px", height="100px")
        )
        self.individuals_area.add_class("posenb-config-individuals")
        self.unique_area = widgets.Textarea(
            description="Unique parts",
            placeholder="one per line (optional)",
            layout=L(width="360px", height="100px"),
        )
        self.unique_area.add_class("posenb-config-uniquebodyparts")
        self.multianimal_note = widgets.HTML(
            "<small>Multi-animal project: the body parts are labeled on every individual "
            "(multianimalbodyparts); unique parts once per frame (stored under 'single').</small>"
        )
        self.multianimal_edit = widgets.VBox(
            [self.multianimal_note, widgets.HBox([self.individuals_area, self.unique_area])]
        )
        self.multianimal_edit.layout.display = "none"
        self.fields = {
            "numframes2pick": widgets.Text(description="numframes2pick"),
            "start": widgets.Text(description="start"),
            "stop": widgets.Text(description="stop"),
            "TrainingFraction": widgets.Text(description="TrainingFraction"),
            "pcutoff": widgets.Text(description="pcutoff"),
            "dotsize": widgets.Text(description="dotsize"),
            "alphavalue": widgets.Text(description="alphavalue"),
            "colormap": widgets.Text(description="colormap"),
            "skeleton_color": widgets.Text(description="skeleton_color"),
            "net_type": widgets.Text(
                description="net type", tooltip="the network posenb trains (posenb.yaml's net_type)"
            ),
            "batch_size": widgets.Text(description="batch_size"),
            "iteration": widgets.Text(description="iteration"),
            "snapshotindex": widgets.Text(description="snapshotindex"),
        }
        for key, w in self.fields.items():
            w.add_class(f"posenb-config-{key}")
            w.style.description_width = "120px"
        self.save_config_button = widgets.Button(description="Save config", button_style="primary")
        self.save_config_button.add_class("posenb-save-config")
        self.reload_config_button = widgets.Button(description="Reload")
        self.config_message = widgets.HTML()
        self.config_message.add_class("posenb-config-message")
        self.save_config_button.on_click(lambda _: self.save_config())
        self.reload_config_button.on_click(lambda _: self.reload_config())
        grid = widgets.GridBox(list(self.fields.values()), layout=L(grid_template_columns="repeat(2, 300px)"))
        return widgets.VBox(
            [
                widgets.HBox([self.bodyparts_area, self.skeleton_area]),
                self.multianimal_edit,
                grid,
                widgets.HBox([self.save_config_button, self.reload_config_button]),
                self.config_message,
            ]
        )

    def _fill_form(self) -> None:
        from posenb.project.config import project_parts, resolve_net_type

        cfg = self.cfg
        if cfg is None:
            return
        parts = project_parts(cfg)
        self.bodyparts_area.value = "\n".join(parts.bodyparts)
        self.individuals_area.value = "\n".join(parts.individuals)
        self.unique_area.value = "\n".join(parts.unique_bodyparts)
        self.multianimal_edit.layout.display = None if parts.multianimal else "none"
        self.skeleton_area.value = "\n".join(f"{a}, {b}" for a, b in (cfg.get("skeleton") or []))
        for key, w in self.fields.items():
            value = resolve_net_type(cfg)[0] if key == "net_type" else cfg.get(key)
            if key == "TrainingFraction":
                value = ", ".join(str(v) for v in (value or []))
            w.value = "" if value is None else str(value)
        self.config_message.value = ""
        # what the form showed: only fields the user changed are written, so edits made meanwhile by another
        # panel (e.g. a body part added in the labeler) are not undone by a stale form
        self._form_snapshot = self.form_values()
        self._cfg_snapshot = copy.deepcopy(cfg)
        self._net_snapshot = self.fields["net_type"].value

    def reload_config(self) -> None:
        """Re-read config.yaml into the form (dropping unsaved edits)."""
        from posenb.project.config import read_config

        if self.config_path is None:
            return
        try:
            self.cfg = read_config(self.config_path)
        except PosenbError as exc:
            self.config_message.value = _msg(str(exc), "error")
            return
        self._fill_form()

    def form_values(self) -> dict:
        """The form as typed: config.yaml keys (see :func:`form_to_config`) and ``net_type``."""
        values = {key: w.value for key, w in self.fields.items()}
        values["bodyparts"] = self.bodyparts_area.value
        values["skeleton"] = self.skeleton_area.value
        if self.cfg and self.cfg.get("multianimalproject"):
            values["individuals"] = self.individuals_area.value
            values["uniquebodyparts"] = self.unique_area.value
        return values

    def _edited(self, current: dict) -> dict:
        """The form fields changed since the form was filled; refused when config.yaml (or posenb.yaml's
        net_type) changed meanwhile in the field's own key."""
        from posenb.project.config import resolve_net_type

        snapshot = getattr(self, "_form_snapshot", {})
        edited = {k: v for k, v in self.form_values().items() if snapshot.get(k) != v}

        def on_disk(key: str, cfg: dict, net: str):
            return net if key == "net_type" else cfg.get(config_key(key, cfg))

        now = resolve_net_type(current)[0]
        changed = [
            k
            for k in edited
            if on_disk(k, current, now) != on_disk(k, self._cfg_snapshot, self._net_snapshot)
        ]
        if changed:
            raise ConfigError(
                f"config.yaml was changed meanwhile ({', '.join(changed)}); press Reload to see it, then edit again."
            )
        return edited

    @staticmethod
    def _refuse_lost_labels(current: dict, new: dict) -> None:
        from posenb.project.config import project_parts

        parts = project_parts(new)
        for what, lost in (
            ("body part(s)", removed_labeled_parts(current, parts.all_bodyparts)),
            ("individual(s)", removed_labeled_individuals(current, list(parts.individuals))),
        ):
            if lost:
                where = "; ".join(f"{b} (in {', '.join(f)})" for b, f in lost.items())
                raise ConfigError(
                    f"Not saved: {what} with labels would be removed: {where}. Keep them, or delete their "
                    "labels first (renaming = adding the new name; the old labels stay under the old name)."
                )

    def save_config(self) -> bool:
        """Validate the form and write config.yaml (the network: posenb.yaml); messages say what is wrong."""
        from posenb.project.config import (
            read_config,
            read_settings,
            resolve_net_type,
            validate_config,
            write_config,
            write_settings,
        )

        if self.cfg is None:
            self.config_message.value = _msg("Open or create a project first.", "error")
            return False
        try:
            current = read_config(self.config_path)
            edited = self._edited(current)
            new = form_to_config(current, edited)
            warnings = validate_config(new, self.config_path)
            self._refuse_lost_labels(current, new)
            write_config(self.config_path, new)
            if "net_type" in edited:
                settings = read_settings(new["project_path"])
                settings["net_type"] = str(edited["net_type"]).strip() or None  # empty: posenb's default
                write_settings(new["project_path"], settings)
        except (PosenbError, OSError) as exc:
            self.config_message.value = _msg(str(exc), "error")
            return False
        self.cfg = new
        self.fields["net_type"].value = self._net_snapshot = resolve_net_type(new)[0]
        self._form_snapshot = self.form_values()
        self._cfg_snapshot = copy.deepcopy(new)
        self.config_message.value = _msg(
            "\n".join(["Saved config.yaml."] + warnings), "warn" if warnings else "ok"
        )
        self.refresh_status()
        self._notify()
        return True
