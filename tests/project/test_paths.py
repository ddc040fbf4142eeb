from posenb.project import paths

CFG = {"Task": "reaching", "date": "Mar7", "iteration": 2, "scorer": "Jane"}


def test_dlc_names():
    assert paths.train_fraction_pct(0.95) == 95 and paths.train_fraction_pct(0.29) == 28
    assert str(paths.get_training_set_folder(CFG)) == "training-datasets/iteration-2/UnaugmentedDataSet_reachingMar7"
    assert str(paths.get_model_folder(0.95, 1, CFG)) == "dlc-models/iteration-2/reachingMar7-trainset95shuffle1"
    assert str(paths.get_evaluation_folder(0.8, 3, CFG)) == "evaluation-results/iteration-2/reachingMar7-trainset80shuffle3"
    data, meta = paths.get_data_and_metadata_filenames("f", 0.95, 1, CFG)
    assert data.name == "reaching_Jane95shuffle1.mat" and meta.name == "Documentation_data-reaching_95shuffle1.pickle"
    assert paths.get_scorer_name(CFG, 1, 0.95, "resnet_50", 1030000) == "DLC_resnet50_reachingMar7shuffle1_1030000"
    assert paths.net_short_name("mobilenet_v2_0.35") == "mobnet_35"
    assert paths.net_short_name("mobilenet_v2_1.0") == "mobnet_100"
    assert paths.net_short_name("efficientnet-b0") == "effnet_b0"


def test_frame_names():
    assert paths.frame_name(42, 1000) == "img042.png"
    assert paths.frame_name(42, 1001) == "img0042.png"
    assert paths.frame_name(7, 50000) == "img00007.png"
    assert paths.frame_index("img0042.png") == 42 and paths.frame_index("foo.png") is None


def test_video_stem_windows_path():
    assert paths.video_stem(r"C:\data\mouse1.avi") == "mouse1"


def test_project_date():
    import datetime as dt

    assert paths.project_date(dt.date(2024, 1, 5)) == "Jan5"
    assert paths.project_date(dt.date(2018, 10, 30)) == "Oct30"


def test_model_folder_names_round_trip():
    cfg = {"Task": "open-field", "date": "Oct30", "iteration": 2}
    folder = paths.get_model_folder(0.95, 3, cfg)
    assert paths.parse_model_folder(folder.name) == (95, 3)
    assert paths.parse_model_folder("open-fieldOct30-trainset80shuffle12") == (80, 12)
    for other in ("open-fieldOct30-trainset80", "trainset80shuffle1-old", "notes", "x-trainset80shufflea"):
        assert paths.parse_model_folder(other) is None


def test_training_set_file_names_round_trip():
    cfg = {"Task": "open_field-2", "scorer": "Jane", "iteration": 0}
    _, meta = paths.get_data_and_metadata_filenames("f", 0.8, 12, cfg)
    assert paths.parse_training_set_file(meta.name) == ("open_field-2", 80, 12)
    assert paths.parse_training_set_file(str(meta)) == ("open_field-2", 80, 12)  # a path is fine too
    for other in ("open_field-2_Jane80shuffle12.mat", "Documentation_data-x_80shuffle1.pickle.bak", "notes"):
        assert paths.parse_training_set_file(other) is None


def test_new_project_folder_rule(tmp_path):
    import datetime as dt

    day = dt.date(2026, 1, 5)
    assert paths.project_folder_name("reach", "Jane", day) == "reach-Jane-2026-01-05"
    assert paths.project_folder_name("reach", "Jane", day, suffix="-3d") == "reach-Jane-2026-01-05-3d"
    folder = tmp_path / "reach-Jane-2026-01-05"
    assert paths.project_folder_problem(folder) is None  # not there yet
    folder.mkdir()
    assert paths.project_folder_problem(folder) is None  # empty
    (folder / "notes.txt").write_text("x")
    assert "is not a posenb/DeepLabCut project" in paths.project_folder_problem(folder)
    (folder / "config.yaml").write_text("Task: reach\n")
    assert paths.project_folder_problem(folder) is None  # a project: create_new_project returns it unchanged


def test_snapshot_number_is_the_one_rule_for_snapshot_file_names():
    from posenb.project.paths import snapshot_number

    assert snapshot_number("snapshot-1500.pt") == 1500
    for other in ("snapshot-1500.pt.tmp", "snapshot-.pt", "snapshot-12.index", "xsnapshot-1.pt", "pose_cfg.yaml"):
        assert snapshot_number(other) is None, other
    # the project status also counts DeepLabCut 2's TensorFlow snapshot files
    assert snapshot_number("snapshot-12.index", any_file=True) == 12
    assert snapshot_number("snapshot-12.data-00000-of-00001", any_file=True) == 12
    assert snapshot_number("learning_stats.csv", any_file=True) is None
