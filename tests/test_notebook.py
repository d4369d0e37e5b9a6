"""notebooks/explore_results.ipynb runs headless, top to bottom, and draws its figures.

Two results folders: one written with the records writers from known numbers (fast,
checks what the notebook shows), and one made by `skinseg replicate --profile tiny`
on the shipped sample (the real thing, when the scenarios and the sample exist).
"""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

nbclient = pytest.importorskip("nbclient")
nbformat = pytest.importorskip("nbformat")
pytest.importorskip("ipykernel")

from skin_segmentation import records, tables  # noqa: E402
from skin_segmentation.models import SCENARIOS  # noqa: E402

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "explore_results.ipynb"
FIGURE_CELLS = ("table1-figure", "per-image", "training-curves", "best-worst")
SIZE = 16
EVAL_IMAGES = 6


def _history(epochs, start):
    epoch = np.arange(1, epochs + 1)
    return pd.DataFrame({
        "epoch": epoch,
        "loss": start / epoch,
        "val_loss": start / epoch + 0.05,
        "jaccard": 1 - start / epoch,
        "val_jaccard": 1 - start / epoch - 0.05,
    })


def write_known_results(root, presets=("unet", "dense_residual_unet")):
    """A results folder whose every number is known: cell (p, s) scores `JACCARD[p][s]`."""
    rng = np.random.default_rng(0)
    jaccards = {}
    for p_index, preset in enumerate(presets):
        history = _history(4, 0.8)
        root.joinpath("pretrained", preset).mkdir(parents=True)
        history.to_csv(root / "pretrained" / preset / "history.csv", index=False)
        for s_index, scenario in enumerate(SCENARIOS):
            # Per-image Jaccard 0.1 .. 0.6 shifted per cell; stems name their rank.
            scores = np.round(np.linspace(0.1, 0.6, EVAL_IMAGES) + 0.1 * s_index + 0.05 * p_index, 4)
            order = rng.permutation(EVAL_IMAGES)
            stems = [f"img_rank{rank}" for rank in order]
            per_image = pd.DataFrame({
                "stem": stems, "jaccard": scores[order], "dice": 2 * scores[order] / (1 + scores[order])
            })
            jaccards[(preset, scenario)] = per_image
            images = rng.integers(0, 256, (EVAL_IMAGES, SIZE, SIZE, 3), dtype=np.uint8)
            masks = np.zeros((EVAL_IMAGES, SIZE, SIZE), np.uint8)
            masks[:, : SIZE // 2] = 1
            confidence = rng.uniform(size=(EVAL_IMAGES, SIZE, SIZE)).astype("float32")
            records.write_record(
                records.record_path(root, preset, scenario),
                preset=preset, scenario=scenario, profile="tiny", config={"test": True},
                parameters=1000 * (p_index + 1), seconds_per_epoch=2.5, seed=0,
                history=_history(3 + s_index, 0.7) if scenario != "direct_transfer" else _history(0, 1),
                splits={"eval": stems}, per_image=per_image, eval_images=images,
                eval_masks=masks, eval_confidence=confidence,
                attributes={"best_epoch": 2, "train_images": 10, "eval_images": EVAL_IMAGES},
            )
    records.write_json_atomic(root / "splits.json", {"seed": 0})
    tables.write_results_tables(root)
    return jaccards


def execute_notebook(results_dir, monkeypatch):
    monkeypatch.setenv("SKINSEG_RESULTS", str(results_dir))
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=600, kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()
    return {tuple(cell.metadata.get("tags", ("untagged",)))[0]: cell for cell in notebook.cells
            if cell.cell_type == "code"}


def _outputs(cell, kind):
    return [output for output in cell.outputs if kind in output.get("data", {})]


def _stdout(cell):
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def assert_ran_and_drew(cells):
    for tag, cell in cells.items():
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert not errors, f"cell {tag!r} failed: {errors[0].get('ename')}: {errors[0].get('evalue')}"
    for tag in FIGURE_CELLS:
        assert _outputs(cells[tag], "image/png"), f"cell {tag!r} drew no figure"


def test_notebook_is_valid_and_saved_without_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(not cell.outputs and cell.execution_count is None for cell in code)
    assert {tag for cell in code for tag in cell.metadata.get("tags", [])} >= set(FIGURE_CELLS)


@pytest.mark.slow
def test_notebook_shows_known_results(tmp_path, monkeypatch):
    results = tmp_path / "results"
    per_cell = write_known_results(results)
    cells = execute_notebook(results, monkeypatch)
    assert_ran_and_drew(cells)

    assert "6 cells of 2 network(s), profile(s) tiny, 36 per-image scores" in _stdout(cells["load"])
    # Table I as Markdown: ours beside the paper's (U-Net fine-tuning 0.89 (0.94)).
    markdown = "".join(o["data"]["text/markdown"] for o in _outputs(cells["table1"], "text/markdown"))
    unet_fine_tuning = per_cell[("unet", "fine_tuning")]
    expected = f"{unet_fine_tuning.jaccard.mean():.2f} ({unet_fine_tuning.dice.mean():.2f})"
    assert expected in markdown and "0.89 (0.94)" in markdown
    # Best and worst of the best cell (dense_residual_unet, fine-tuning: highest shift).
    printed = _stdout(cells["best-worst"])
    assert "dense_residual_unet, fine_tuning" in printed
    assert "best: img_rank5, img_rank4, img_rank3" in printed
    assert "worst: img_rank0, img_rank1, img_rank2" in printed


def _have(module):
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


@pytest.mark.slow
@pytest.mark.skipif(
    not (_have("skin_segmentation.scenarios") and _have("skin_segmentation.data.sample")),
    reason="skinseg replicate (scenarios, shipped sample) is not in this checkout yet",
)
def test_notebook_runs_on_a_tiny_replication(tmp_path, monkeypatch):
    from skin_segmentation.cli import main

    results = tmp_path / "tiny"
    assert main(["replicate", "--profile", "tiny", "--out", str(results)]) == 0
    runs = pd.read_csv(results / "runs.csv")
    cells = execute_notebook(results, monkeypatch)
    assert_ran_and_drew(cells)
    assert f"{len(runs)} cells of" in _stdout(cells["load"])
    best = runs.sort_values("mean_jaccard", ascending=False, kind="stable").iloc[0]
    assert f"{best.preset}, {best.scenario}" in _stdout(cells["best-worst"])
    assert json.loads((results / "splits.json").read_text())
