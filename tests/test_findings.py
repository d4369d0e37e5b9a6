"""The paper's four findings checked on a Table I, and degenerate cells marked."""

import numpy as np
import pandas as pd
import pytest

from skin_segmentation import metrics
from skin_segmentation.findings import findings_markdown, table1_findings
from skin_segmentation.records import record_path, write_record
from skin_segmentation.scenarios import evaluate_cell
from skin_segmentation.tables import write_results_tables


def table(scores, degenerate=None):
    """A Table I frame from `{preset: (direct transfer, direct training, fine-tuning)}`."""
    rows = []
    for preset, values in scores.items():
        row = {"preset": preset}
        for scenario, value in zip(("direct_transfer", "direct_training", "fine_tuning"), values):
            row[f"{scenario}_pooled_jaccard"] = np.nan if value is None else value
            row[f"{scenario}_degenerate"] = (degenerate or {}).get((preset, scenario), "")
        rows.append(row)
    return pd.DataFrame(rows)


def shown(rows):
    return {row["finding"]: row["shown"] for row in rows}


def test_the_papers_own_table_shows_all_four_findings():
    paper = table({"dense_residual_unet": (0.55, 0.80, 0.88), "unet_large": (0.51, 0.83, 0.89),
                   "unet": (0.44, 0.79, 0.89)})
    rows = table1_findings(paper)
    assert shown(rows) == {"F1": "yes", "F2": "yes", "F3": "yes", "F4": "yes"}
    assert "spread 0.010" in rows[3]["figures"]
    assert "dense_residual_unet 0.550 vs unet_large 0.510, unet 0.440" in rows[2]["figures"]


def test_baseline_rows_are_not_networks():
    paper = table({"dense_residual_unet": (0.55, 0.80, 0.88), "unet": (0.44, 0.79, 0.89),
                   "all_skin": (0.62, 0.62, 0.62)})
    paper["baseline"] = [False, False, True]
    rows = table1_findings(paper)
    assert shown(rows) == {"F1": "yes", "F2": "yes", "F3": "yes", "F4": "yes"}
    assert not any("all_skin" in row["figures"] for row in rows)


def test_partly_no_and_not_decidable():
    ours = table({"dense_residual_unet": (0.65, 0.69, 0.68), "unet_large": (0.61, 0.62, 0.68),
                  "unet": (0.66, 0.62, 0.70)})
    # F1: only unet_large's fine-tuning beats both others; F2: two of three; F3: beats one
    # U-Net of two; F4: two pairs of three within 0.01.
    assert shown(table1_findings(ours)) == {"F1": "partly", "F2": "partly", "F3": "partly",
                                            "F4": "partly"}
    worse = table({"dense_residual_unet": (0.60, 0.50, 0.55), "unet": (0.70, 0.40, 0.80)})
    assert shown(table1_findings(worse)) == {"F1": "partly", "F2": "no", "F3": "no", "F4": "no"}
    single = table({"unet": (0.60, None, 0.70)})
    assert shown(table1_findings(single)) == {"F1": "n/a", "F2": "n/a", "F3": "n/a", "F4": "n/a"}


def test_degenerate_cells_are_named_in_the_findings_lines():
    marked = table({"dense_residual_unet": (0.65, 0.62, 0.70), "unet": (0.60, 0.62, 0.70)},
                   degenerate={("unet", "direct_training"): "all skin"})
    lines = findings_markdown(table1_findings(marked))
    assert lines[1].startswith("- F2. Direct training on the target's images beats direct "
                               "transfer: **partly**")
    assert "unet: direct training 0.620 [degenerate: all skin] vs direct transfer 0.600" in lines[1]


class AllSkin:
    """A 'network' that calls every pixel skin."""

    def predict(self, images, batch_size=None, verbose=0):
        return np.ones((*images.shape[:3], 1), "float32")


def test_a_model_that_outputs_all_skin_is_marked_degenerate(tmp_path):
    rng = np.random.default_rng(5)
    masks = (rng.random((6, 16, 16)) < 0.7).astype("uint8")
    images = rng.normal(size=(6, 16, 16, 3)).astype("float32")
    stems = [f"img{i}" for i in range(6)]
    per_image, confidence = evaluate_cell(AllSkin(), images, masks, stems, batch_size=4)
    assert (per_image["fn"] == 0).all() and (per_image["tn"] == 0).all()
    assert metrics.degeneracy(per_image.tp, per_image.fp, per_image.fn, per_image.tn) == "all skin"
    for scenario in ("direct_transfer", "direct_training", "fine_tuning"):
        write_record(
            record_path(tmp_path, "unet", scenario), preset="unet", scenario=scenario,
            profile="tiny", config={}, parameters=10, seconds_per_epoch=1.0, seed=0,
            history=pd.DataFrame({"epoch": [1], "loss": [0.5], "val_loss": [0.5]}),
            splits={"eval": stems}, per_image=per_image,
            eval_images=np.zeros((6, 16, 16, 3), "uint8"), eval_masks=masks,
            eval_confidence=confidence, attributes={"train_images": 4, "validation_images": 1},
        )
    table1 = write_results_tables(tmp_path)
    assert table1.loc[0, "fine_tuning_degenerate"] == "all skin"
    assert (pd.read_csv(tmp_path / "table1.csv")["direct_training_degenerate"] == "all skin").all()
    markdown = (tmp_path / "table1.md").read_text()
    row = next(line for line in markdown.splitlines() if line.startswith("| unet |"))
    assert row.count("degenerate (all skin)") == 3
    f1 = next(line for line in markdown.splitlines() if line.startswith("- F1."))
    assert "**no**" in f1 and f1.count("[degenerate: all skin]") == 3


def test_near_all_skin_is_degenerate_and_a_real_answer_is_not():
    # Half the skin pixels found, no false skin: far from "all skin" (J 0.5 vs 0.4).
    assert metrics.degeneracy([30, 10], [0, 0], [30, 10], [40, 80]) == ""
    # All skin but a handful of pixels: within 0.02 pooled Jaccard of all skin.
    assert metrics.degeneracy([60, 20], [38, 79], [0, 0], [2, 1]) == "near all-skin"
    assert metrics.degeneracy([0, 0], [0, 0], [60, 20], [40, 80]) == "no skin"
    assert metrics.DEGENERATE_MARGIN == pytest.approx(0.02)
