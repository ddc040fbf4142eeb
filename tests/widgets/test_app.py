"""launch(): the tabbed app in workflow order, lazy panels, errors shown in their tab, project switching."""

import logging

import pytest

pytest.importorskip("ipycanvas")

from posenb.widgets.app import PANELS, PosenbApp, launch  # noqa: E402


def test_tabs_in_workflow_order_and_lazy_panels(demo_project):
    app = launch(demo_project)
    titles = list(app.titles)
    order = [t for t, _, _ in PANELS]
    assert titles[:4] == ["Project", "Extract frames", "Label", "Check labels"]
    assert titles == [t for t in order if t in titles]  # never reordered
    assert list(app.panels) == ["Project"]  # other tabs are built when first opened
    app.selected_index = titles.index("Label")
    labeler = app.panels["Label"]
    assert labeler.folder == "demo_mouse" and labeler.config_path == demo_project
    for i in range(len(titles)):  # walk every tab: each is a panel or shows its error
        app.selected_index = i
    assert set(app.panels) | set(app.errors) == set(titles)
    assert not {"Project", "Extract frames", "Label", "Check labels"} & set(app.errors)


def test_missing_module_is_left_out_with_a_warning(caplog):
    panels = [
        ("Project", "posenb.widgets.wizard", "ProjectWizard"),
        ("Ghost", "posenb.widgets.no_such_panel", "Ghost"),
    ]
    with caplog.at_level(logging.WARNING):
        app = PosenbApp(None, panels=panels)
    assert list(app.titles) == ["Project"]
    assert "no_such_panel" in caplog.text


def test_failing_panel_shows_its_error():
    panels = [
        ("Project", "posenb.widgets.wizard", "ProjectWizard"),
        ("Broken", "posenb.widgets.app", "NoSuchClass"),
    ]
    app = PosenbApp(None, panels=panels)
    app.selected_index = 1
    assert "Broken" in app.errors and "NoSuchClass" in app.errors["Broken"]
    html = app.children[1].children[0].value
    assert "could not be opened" in html and "NoSuchClass" in html


def test_opening_a_project_in_the_wizard_switches_every_panel(demo_project):
    app = launch()
    app.selected_index = app.titles.index("Label")
    labeler = app.panels["Label"]
    assert labeler.state is None
    wizard = app.panels["Project"]
    wizard.open_project(demo_project)
    assert labeler.folder == "demo_mouse"
    app.selected_index = app.titles.index("Extract frames")
    assert app.panels["Extract frames"].video_key is not None  # built later, with the project


def test_3d_tab_is_not_handed_a_2d_project(demo_project, tmp_path):
    from posenb.threed import create_new_project_3d

    app = launch(demo_project)
    app.selected_index = app.titles.index("3D calibration")
    view = app.panels["3D calibration"]
    assert view.config is None and "Cannot open" not in view.status_text  # a hint, not an error
    config_3d = create_new_project_3d("rig", "me", 2, working_directory=str(tmp_path))
    app.selected_index = app.titles.index("Label")
    labeler = app.panels["Label"]
    app.set_config(config_3d)  # a 3D project goes to the 3D tab only
    assert view.config is not None and view.cameras and labeler.config_path == demo_project
    app.set_config(demo_project)  # and back: the 3D project stays open in its tab
    assert view.config is not None and labeler.config_path == demo_project


def test_public_entry_points(demo_project):
    import posenb
    from posenb import widgets

    assert isinstance(posenb.launch(demo_project), PosenbApp)
    if "refiner" in {m.rsplit(".", 1)[-1] for _, m, _ in PANELS}:
        try:
            import posenb.widgets.refiner  # noqa: F401
        except ImportError:
            pytest.skip("refiner not written yet")
        assert type(widgets.refine_labels(demo_project)).__name__ == "RefinementEditor"


def test_no_widget_of_a_panel_is_left_without_a_tooltip(demo_project):
    """ipywidgets 8 shows a missing tooltip as "null" in the page (issue 15): the app fills them in."""
    import ipywidgets as widgets

    app = launch(demo_project)
    app.selected_index = app.titles.index("Extract frames")
    grabber = app.panels["Extract frames"]

    def walk(w):
        yield w
        for c in getattr(w, "children", ()) or ():
            if isinstance(c, widgets.Widget):
                yield from walk(c)

    missing = [w for w in walk(grabber) if w.has_trait("tooltip") and w.tooltip is None]
    assert not missing
    assert grabber.range_start.tooltip == "from"
