"""split_frame_numbers: which video frames a multi-animal model was trained on and which it never saw.

The fly benchmarks (benchmarks/bench_tracking.py --config, bench_ma_fly.py --clip) score the whole clip apart on
the labeled frames of the training split and on the held-out ones; the split is read back from the training set
as evaluate_network reads it. Checked on a tiny synthetic project with a known split (no training).
"""

from __future__ import annotations

import numpy as np
import pytest
from ma_synth import make_ma_project

from posenb.data.ma_trainingset import read_ma_training_split, split_frame_numbers
from posenb.errors import ConfigError
from posenb.project.config import read_config


def test_split_frame_numbers_reads_the_shuffles_split(tmp_path):
    from posenb import create_training_dataset

    config = make_ma_project(tmp_path, n=10)  # labeled-data/vid/img000.png ... img009.png
    test = [1, 4, 8]
    train = [i for i in range(10) if i not in test]
    splits = create_training_dataset(
        config, Shuffles=[1, 2], trainIndices=[train, test], testIndices=[test, train]
    )
    cfg = read_config(config)
    tsi = [cfg["TrainingFraction"].index(fraction) for fraction, *_ in splits]  # 0.7 and 0.3: added to config
    tr, te = split_frame_numbers(cfg, "vid", shuffle=1, trainingsetindex=tsi[0])
    assert tr.dtype == np.int64 and tr.tolist() == train and te.tolist() == test
    assert not set(tr) & set(te)  # a frame is in one split only
    tr2, te2 = split_frame_numbers(cfg, "vid", shuffle=2, trainingsetindex=tsi[1])  # the other one swaps them
    assert tr2.tolist() == test and te2.tolist() == train
    # the frame numbers are those of the rows the training set lists (as evaluate_network reads them)
    data, train_idx, _, _ = read_ma_training_split(cfg, 1, tsi[0])
    assert sorted(int(data.index[i][2][3:6]) for i in train_idx) == train
    other = split_frame_numbers(cfg, "another_video", 1, tsi[0])  # frames of other videos are left out
    assert other[0].size == 0 and other[1].size == 0
    with pytest.raises(ConfigError, match="does not exist"):
        split_frame_numbers(cfg, "vid", shuffle=3, trainingsetindex=tsi[0])
