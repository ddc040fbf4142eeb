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
