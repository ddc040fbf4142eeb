import pickle

import numpy as np
import pandas as pd
import pytest

from posenb.errors import LabelError
from posenb.io.predictions import (
    array_to_predictions,
    find_analyzed_data,
    predictions_to_array,
    read_meta,
    read_predictions,
    safe_pickle_load,
    write_meta,
    write_predictions,
)


def test_predictions_round_trip_dlc_layout(tmp_path):
    arr = np.random.default_rng(1).random((30, 3, 3))
    df = array_to_predictions(arr, "DLC_resnet50_tOct30shuffle1_100", ["a", "b", "c"])
    path = write_predictions(df, tmp_path / "vidDLC_resnet50_tOct30shuffle1_100.h5", save_as_csv=True)
    raw = pd.read_hdf(path, "df_with_missing")
    assert list(raw.columns.get_level_values(2)[:3]) == ["x", "y", "likelihood"]
    assert raw.columns.names == ["scorer", "bodyparts", "coords"] and len(raw) == 30
    np.testing.assert_allclose(predictions_to_array(read_predictions(path)), arr)
    np.testing.assert_allclose(predictions_to_array(read_predictions(path.with_suffix(".csv"))), arr)
    assert find_analyzed_data(tmp_path, "vid") == path
    with pytest.raises(LabelError, match="filterpredictions"):
        find_analyzed_data(tmp_path, "vid", filtered=True)


def test_meta_pickle_plain_and_safe(tmp_path):
    h5 = tmp_path / "vDLC_x.h5"
    write_meta(h5, {"fps": np.float64(30), "frame_dimensions": (480, 640), "cropping_parameters": np.array([0, 640, 0, 480])})
    meta = read_meta(h5)
    assert meta == {"fps": 30.0, "frame_dimensions": (480, 640), "cropping_parameters": [0, 640, 0, 480]}
    # a filtered file has its analysis' meta (filtering writes none, as in DeepLabCut)
    assert read_meta(tmp_path / "vDLC_x_filtered.h5") == meta

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    bad = tmp_path / "evil.pickle"
    bad.write_bytes(pickle.dumps({"data": Evil()}))
    with pytest.raises(LabelError, match="cannot be read safely"):
        safe_pickle_load(bad)
