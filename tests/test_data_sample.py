"""The shipped sample, and the real data in ../shared/data when it is present."""

import collections
import json

import numpy as np

from skin_segmentation.cli import main
from skin_segmentation.data import (
    balanced_pool,
    inspect_dataset,
    make_dataset,
    read_datasets,
    read_folder,
    sample_datasets,
    split_target,
    split_validation,
)
from skin_segmentation.data.sample import SAMPLE_ROOT


def test_sample_holds_the_paper_protocol_and_a_pool():
    pretrain, target = sample_datasets()
    assert [folder.name for folder in pretrain] == ["sfa", "fasseg", "hgr_subset"]
    counts = collections.Counter(pair.source for pair in read_datasets(pretrain))
    assert counts == {"sfa": 100, "fasseg": 100, "hgr_subset": 100}
    train, evaluation = split_target(read_folder(target), seed=0)
    assert len(train) == 100 and len(evaluation) == 300
    fit, validation = split_validation(train, seed=0)
    assert len(fit) == 80 and len(validation) == 20
    assert len(balanced_pool(read_datasets(pretrain), seed=0)) == 300


def test_sample_is_small_attributed_and_clean():
    total = sum(path.stat().st_size for path in SAMPLE_ROOT.rglob("*") if path.is_file())
    assert total < 6_000_000
    attribution = (SAMPLE_ROOT / "ATTRIBUTION.md").read_text()
    for citation in ("Topiwala", "Casati", "Khan", "Kawulok"):
        assert citation in attribution
    summary = inspect_dataset(sample_datasets()[1])
    assert summary["pairs"] == summary["usable"] == 400 and summary["problems"] == []
    assert summary["sizes"] == {"128x128": 400}


def test_sample_feeds_the_pipeline():
    pairs = read_folder(sample_datasets()[1])[:32]
    images, masks = next(iter(make_dataset(pairs, augment="tf", shuffle=True, seed=0)))
    assert images.shape == (16, 128, 128, 3) and masks.shape == (16, 128, 128, 1)
    assert 0.2 < float(np.mean(masks)) < 0.95  # abdominal photographs are mostly skin


def test_inspect_data_reports_617_usable_abdominal_pairs(shared_data, capsys):
    assert main(["inspect-data", str(shared_data / "abdomen")]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["pairs"] == summary["usable"] == 617
    assert summary["problems"] == [] and summary["sizes"] == {"227x227": 617}
    assert 0.6 < summary["skin_fraction"]["mean"] < 0.7  # SOURCES.md: 0.64
