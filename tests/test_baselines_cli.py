"""Baselines wherever a network is: `skinseg predict/evaluate --model NAME`,
`skinseg evaluate --by tone`, `skinseg train --model histogram`."""

import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from skimage.color import lab2rgb

from skin_segmentation.cli import main
from skin_segmentation.evaluation import evaluate_by_tone
from skin_segmentation.inference import load_detector

from test_baselines import SKIN_COLOUR, SKY_COLOUR, write_two_population_pairs

BACKGROUND = (20, 110, 30)  # green: no rule, and no tone, calls it skin


def lab_colour(lightness, b_star):
    rgb = lab2rgb(np.array([[[lightness, 10.0, b_star]]]))[0, 0]
    return tuple(int(v) for v in np.round(rgb * 255))


def write_tone_folder(root):
    """Four photos 20x40: skin (left `width` columns) of a known tone on a green ground.

    a, b: light skin (ITA 53), 20x20 and 20x10; c: dark skin (ITA -50), 20x20;
    d: 20x4 = 80 skin pixels, fewer than 100: tone unknown.
    """
    light, dark = lab_colour(70.0, 15.0), lab_colour(32.1, 15.0)
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for stem, colour, width in (("a", light, 20), ("b", light, 10), ("c", dark, 20), ("d", light, 4)):
        image = np.empty((20, 40, 3), np.uint8)
        image[:] = BACKGROUND
        image[:, :width] = colour
        mask = np.zeros((20, 40), np.uint8)
        mask[:, :width] = 255
        Image.fromarray(image).save(root / "images" / f"{stem}.png")
        Image.fromarray(mask).save(root / "masks" / f"{stem}.png")
    (root / "pairs.tsv").write_text("stem\tfitzpatrick_type\na\t2\nb\t2\nc\t6\nd\t\n")
    return root


def last_json(capsys):
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_evaluate_by_tone_on_known_tones(tmp_path, capsys):
    data = write_tone_folder(tmp_path / "tones")
    prefix = tmp_path / "report" / "tones"
    code = main(["evaluate", "--data", str(data), "--model", "all_skin", "--baselines", "ycrcb",
                 "--by", "tone", "--report", str(prefix), "--out", str(tmp_path / "per_image.csv")])
    assert code == 0
    output = capsys.readouterr().out
    summary = json.loads(output.strip().splitlines()[-1])
    # all_skin: the Jaccard of each photo is its skin fraction: 0.5, 0.25, 0.5, 0.1.
    assert summary["model"] == "all_skin" and summary["weights"] is None
    assert summary["mean_jaccard"] == pytest.approx((0.5 + 0.25 + 0.5 + 0.1) / 4)
    assert "| all_skin | light | 2 | 0.375 | 0.375 |" in output  # mean (0.5+0.25)/2, pooled 600/1600
    assert "| all_skin | dark | 1 | 0.500 |" in output and "| all_skin | unknown | 1 | 0.100 |" in output
    table = pd.read_csv(f"{prefix}.csv")
    assert table["model"].tolist() == ["all_skin"] * 3 + ["ycrcb"] * 3
    assert table["group"].tolist() == ["light", "dark", "unknown"] * 2
    gaps = pd.read_csv(f"{prefix}_gaps.csv").set_index("model")
    assert gaps.loc["all_skin", "gap"] == pytest.approx(0.125)  # dark 0.5 - light 0.375
    fitzpatrick = pd.read_csv(f"{prefix}_fitzpatrick.csv")
    assert fitzpatrick["group"].astype(str).tolist()[:3] == ["2", "6", "unknown"]
    for path in (f"{prefix}.png", f"{prefix}_fitzpatrick.png", f"{prefix}.md"):
        assert (tmp_path / "report" / path.split("/")[-1]).stat().st_size > 0
    assert set(summary["by_tone"]) == {"ita_category", "fitzpatrick_type", "per_image"}
    per_image = pd.read_csv(tmp_path / "per_image.csv")  # --out: the model's own rows, with tones
    assert len(per_image) == 4 and per_image["ita_category"].tolist() == ["light", "light", "dark", "unknown"]


def test_evaluate_by_tone_beside_a_network(tmp_path, red_weights):
    data = write_tone_folder(tmp_path / "tones")
    from skin_segmentation.data.readers import read_dataset

    network = load_detector(weights=red_weights)
    assert network.name == "red" and network.weights == red_weights
    detectors = {network.name: network.model, "all_skin": load_detector("all_skin").model}
    per_image, reports, paths = evaluate_by_tone(detectors, read_dataset(data))
    assert paths == {}  # no `out`: nothing written
    assert per_image.groupby("model", sort=False).size().to_dict() == {"red": 4, "all_skin": 4}
    table, gaps = reports["ita_category"]
    assert table["model"].tolist() == ["red"] * 3 + ["all_skin"] * 3


def test_predict_with_a_colour_rule(tmp_path, capsys):
    photo = np.empty((6, 10, 3), np.uint8)
    photo[:, :4] = SKIN_COLOUR
    photo[:, 4:] = SKY_COLOUR
    Image.fromarray(photo).save(tmp_path / "photo.png")
    assert main(["predict", str(tmp_path / "photo.png"), "--out", str(tmp_path / "out"),
                 "--model", "ycrcb"]) == 0
    assert last_json(capsys)["model"] == "ycrcb"
    mask = np.asarray(Image.open(tmp_path / "out" / "photo_mask.png"))
    assert (mask[:, :4] == 255).all() and (mask[:, 4:] == 0).all()


def test_unknown_model_is_one_line_and_exit_2(tmp_path, capsys):
    data = write_tone_folder(tmp_path / "tones")
    assert main(["evaluate", "--data", str(data), "--model", "svm"]) == 2
    assert "Unknown model 'svm'" in capsys.readouterr().err
    assert main(["evaluate", "--data", str(data), "--model", "histogram"]) == 2
    assert "histogram baseline is trained" in capsys.readouterr().err


def test_train_histogram_then_evaluate_it(tmp_path, capsys):
    rng = np.random.default_rng(0)
    pool = tmp_path / "pool"
    write_two_population_pairs(pool, rng, 12)
    held_out = tmp_path / "held_out"
    write_two_population_pairs(held_out, rng, 3)
    run = tmp_path / "run"
    assert main(["train", "--model", "histogram", "--data", str(pool), "--out", str(run),
                 "--profile", "tiny", "--bins", "16"]) == 0
    trained = last_json(capsys)
    assert trained["model"] == str(run / "histogram.npz") and trained["bins"] == 16
    assert trained["train_pairs"] + trained["validation_pairs"] == 12
    assert json.loads((run / "splits.json").read_text())
    assert main(["evaluate", "--data", str(held_out), "--model", "histogram",
                 "--weights", str(run / "histogram.npz")]) == 0
    assert last_json(capsys)["mean_jaccard"] > 0.97


def test_evaluate_by_tone_on_the_shipped_sample(tmp_path, capsys, monkeypatch):
    """The issue's check on the sample's abdomen: prints the table, writes CSV, Markdown, PNG."""
    from skin_segmentation.data.sample import sample_datasets

    _, target = sample_datasets()
    monkeypatch.chdir(tmp_path)
    assert main(["evaluate", "--data", str(target), "--split", "eval", "--by", "tone"]) == 0
    output = capsys.readouterr().out
    summary = json.loads(output.strip().splitlines()[-1])
    assert summary["n"] == 300 and summary["model"] == "unet"
    assert "| ycrcb | very_light |" in output and "Gap between the best and the worst group" in output
    for name in ("abdomen_eval_by_tone.csv", "abdomen_eval_by_tone.md", "abdomen_eval_by_tone.png",
                 "abdomen_eval_by_tone_gaps.csv", "abdomen_eval_by_tone_per_image.csv"):
        assert (tmp_path / name).is_file()
    table = pd.read_csv(tmp_path / "abdomen_eval_by_tone.csv")
    assert list(dict.fromkeys(table["model"])) == ["unet", "all_skin", "ycrcb", "hsv"]
    assert table.groupby("model")["n"].sum().eq(300).all()
    # The network's rows agree with the summary it printed.
    per_image = pd.read_csv(tmp_path / "abdomen_eval_by_tone_per_image.csv")
    unet = per_image[per_image["model"] == "unet"]
    assert unet["jaccard"].mean() == pytest.approx(summary["mean_jaccard"])
