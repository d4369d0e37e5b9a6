"""`dataset_evaluation`: `skinseg evaluate` as a library call, checked with the all-skin baseline.

Calling every pixel skin, a photograph's Jaccard is its fraction of skin pixels
and the pooled Jaccard the set's, so the expected scores are read off the masks.
"""

import shutil

import numpy as np
import pandas as pd
import pytest

from skin_segmentation.data.readers import DataError, load_pair, read_dataset
from skin_segmentation.data.sample import SAMPLE_ROOT
from skin_segmentation.data.splits_file import write_splits
from skin_segmentation.dataset_evaluation import evaluate_dataset, tone_detectors, tone_report_prefix
from skin_segmentation.evaluation import select_split
from skin_segmentation.inference import load_detector
from skin_segmentation.problems import ProblemLog

from test_baselines_cli import write_tone_folder

ALL_SKIN = load_detector("all_skin")


def test_all_skin_scores_each_sample_photo_by_its_skin_fraction():
    data = SAMPLE_ROOT / "sfa"
    per_image, summary, markdown = evaluate_dataset(ALL_SKIN, data)
    masks = {pair.stem: load_pair(pair)[1] for pair in read_dataset(data)}
    expected = per_image["stem"].map(lambda stem: masks[stem].mean())
    np.testing.assert_allclose(per_image["jaccard"], expected, rtol=1e-12)
    skin = sum(int(mask.sum()) for mask in masks.values())
    pixels = sum(mask.size for mask in masks.values())
    assert summary["pooled_jaccard"] == pytest.approx(skin / pixels)
    assert summary["n"] == len(masks) == 100 and summary["pixel_recall"] == 1.0
    # All skin: a photograph's non-skin IoU is 0 (1 / 2 of its skin IoU in the mean), unless
    # it is all skin, where non-skin is absent and left out.
    fractions = expected.to_numpy()
    expected_miou = np.where(fractions == 1.0, 1.0, fractions / 2).mean()
    assert summary["mean_two_class_miou"] == pytest.approx(expected_miou)
    assert list(summary)[10:] == ["data", "split", "model", "weights", "fill_holes", "fill_enclosed",
                                 "problems", "problem_count", "problems_csv"]
    assert summary["model"] == "all_skin" and summary["weights"] is None and markdown == []
    assert summary["fill_holes"] == summary["fill_enclosed"] == 0.0  # the library's default: none


def test_the_split_and_where_it_came_from(tmp_path):
    data = SAMPLE_ROOT / "abdomen"
    per_image, summary, _ = evaluate_dataset(ALL_SKIN, data, split="eval", seed=3)
    expected = [pair.stem for pair in select_split(read_dataset(data), "eval", seed=3)]
    assert per_image["stem"].tolist() == expected and summary["seed"] == 3 and summary["n"] == 300
    splits = write_splits(tmp_path / "splits.json", validation=expected[:5])
    per_image, summary, _ = evaluate_dataset(ALL_SKIN, data, split="validation", splits_file=splits)
    assert per_image["stem"].tolist() == expected[:5]
    assert summary["splits"] == str(splits) and "seed" not in summary


def test_by_tone_writes_the_report_and_keeps_the_detectors_rows(tmp_path):
    data = write_tone_folder(tmp_path / "tones")
    out = tmp_path / "scores" / "all_skin.csv"
    per_image, summary, markdown = evaluate_dataset(ALL_SKIN, data, by_tone=True,
                                                    baselines=["ycrcb", "all_skin"], out=out)
    prefix = tmp_path / "scores" / "all_skin_by_tone"
    assert prefix == tone_report_prefix(data, out=out)
    # Skin fraction of each photograph: 20, 10, 20 and 4 of 40 columns.
    assert per_image["jaccard"].tolist() == pytest.approx([0.5, 0.25, 0.5, 0.1])
    assert "model" not in per_image and per_image["ita_category"].tolist()[:3] == ["light", "light", "dark"]
    pd.testing.assert_frame_equal(pd.read_csv(out), per_image.reset_index(drop=True), check_dtype=False)
    assert markdown == [prefix.with_suffix(".md").read_text(),
                        prefix.with_name("all_skin_by_tone_fitzpatrick.md").read_text()]
    assert markdown[0].startswith("# tones (all, 4 images) by ita category\n")
    everyone = pd.read_csv(summary["by_tone"]["per_image"])
    assert everyone["model"].unique().tolist() == ["all_skin", "ycrcb"]
    assert summary["by_tone"]["ita_category"]["csv"] == str(prefix.with_suffix(".csv"))
    assert list(tone_detectors(ALL_SKIN, ["ycrcb", "all_skin"])) == ["all_skin", "ycrcb"]


def test_unreadable_pairs_are_kept_or_raised(tmp_path):
    data = tmp_path / "sfa"
    shutil.copytree(SAMPLE_ROOT / "sfa", data)
    broken = sorted((data / "images").iterdir())[0]
    broken.write_bytes(b"not an image")
    with pytest.raises(DataError, match=broken.name):
        evaluate_dataset(ALL_SKIN, data)
    log = ProblemLog("test", echo=False)
    out = tmp_path / "scores.csv"
    per_image, summary, _ = evaluate_dataset(ALL_SKIN, data, out=out, problems=log)
    assert summary["n"] == len(per_image) == 99 and broken.stem not in set(per_image["stem"])
    assert summary["problem_count"] == 1 and summary["problems_csv"] == str(tmp_path / "problems.csv")
    assert pd.read_csv(tmp_path / "problems.csv")["file"].tolist() == [str(broken)]


def test_no_readable_pair_is_an_error_after_the_csv(tmp_path):
    data = tmp_path / "broken"
    (data / "images").mkdir(parents=True)
    (data / "masks").mkdir()
    (data / "images" / "a.png").write_bytes(b"not an image")
    (data / "masks" / "a.png").write_bytes(b"not a mask")
    out = tmp_path / "scores.csv"
    with pytest.raises(ValueError, match="none of the 1 pairs could be read"):
        evaluate_dataset(ALL_SKIN, data, out=out, problems=ProblemLog("test", echo=False))
    assert pd.read_csv(out).empty and (tmp_path / "problems.csv").is_file()
