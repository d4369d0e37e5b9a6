"""`experiments/compare_models.py`: the per-set comparison's command line, post-processing included."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from skin_segmentation.comparison import POOL_SOURCES
from skin_segmentation.data.sample import SAMPLE_ROOT
from skin_segmentation.data.splits_file import write_splits

SCRIPT = Path(__file__).resolve().parents[1] / "experiments" / "compare_models.py"


def lesion_close_up(root):
    """One close-up that is all skin, with an 8x8 blue patch the YCrCb rule calls non-skin."""
    image = np.zeros((64, 64, 3), np.uint8)
    image[:] = (210, 150, 120)
    image[20:28, 30:38] = (20, 60, 200)
    for folder in ("images", "masks"):
        (root / folder).mkdir(parents=True)
    Image.fromarray(image).save(root / "images" / "lesion.png")
    Image.fromarray(np.full((64, 64), 255, np.uint8)).save(root / "masks" / "lesion.png")


def compare(tmp_path, *flags):
    data_root = tmp_path / "data"
    if not data_root.exists():
        data_root.mkdir()
        (data_root / "abdomen").symlink_to(SAMPLE_ROOT / "abdomen")
        for source in POOL_SOURCES:  # read, but none of their stems is in the validation split
            (data_root / source).symlink_to(SAMPLE_ROOT / "sfa")
        lesion_close_up(data_root / "clinical_ft13")
    splits = write_splits(tmp_path / "splits.json", validation=[])
    out = tmp_path / f"compare{len(flags)}.csv"
    command = [sys.executable, str(SCRIPT), "--data-root", str(data_root), "--splits", str(splits),
               "--out", str(out), "--baselines", "ycrcb", "--sets", "clinical_ft13_all", *flags]
    return subprocess.run(command, capture_output=True, text=True, check=False), out


def test_fill_holes_scores_the_filled_masks_and_the_default_the_raw_ones(tmp_path):
    raw, raw_csv = compare(tmp_path)
    assert raw.returncode == 0, raw.stderr
    filled, filled_csv = compare(tmp_path, "--fill-holes", "0.02")
    assert filled.returncode == 0, filled.stderr
    raw_row, filled_row = pd.read_csv(raw_csv).iloc[0], pd.read_csv(filled_csv).iloc[0]
    # 64 of 4096 pixels are the blue patch: missed without the fill, skin with it.
    assert raw_row["pixel_recall"] == (4096 - 64) / 4096
    assert filled_row["pixel_recall"] == 1.0 and filled_row["pooled_jaccard"] == 1.0


def test_fill_enclosed_fills_a_patch_that_skin_encloses_over_the_fill_holes_share(tmp_path):
    # The patch is 1.6% of the close-up and touches no edge: kept at --fill-holes 0.005 alone,
    # filled when --fill-enclosed 0.02 raises the share for enclosed regions.
    kept, kept_csv = compare(tmp_path, "--fill-holes", "0.005")
    filled, filled_csv = compare(tmp_path, "--fill-holes", "0.005", "--fill-enclosed", "0.02")
    assert kept.returncode == 0 and filled.returncode == 0, kept.stderr + filled.stderr
    assert pd.read_csv(kept_csv).iloc[0]["pixel_recall"] == (4096 - 64) / 4096
    assert pd.read_csv(filled_csv).iloc[0]["pixel_recall"] == 1.0


def test_a_fill_share_outside_zero_to_one_is_refused_showing_it(tmp_path):
    result, out = compare(tmp_path, "--fill-holes", "1.5")
    assert result.returncode == 2 and not out.exists()
    assert "fill_holes=1.5" in result.stderr
    result, out = compare(tmp_path, "--fill-enclosed", "-0.5")
    assert result.returncode == 2 and not out.exists() and "fill_enclosed=-0.5" in result.stderr
