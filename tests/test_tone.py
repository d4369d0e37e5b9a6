"""Skin tone: ITA of synthetic patches of known L*a*b*, its categories, and the
Fitzpatrick type read from a dataset's pairs.tsv."""

import numpy as np
import pandas as pd
import pytest
from skimage.color import lab2rgb

from skin_segmentation.data.readers import read_folder
from skin_segmentation.tone import (
    MIN_SKIN_PIXELS,
    UNKNOWN,
    ita_category,
    ita_degrees,
    read_fitzpatrick,
    skin_tone,
    skin_tones,
)


def lab_patch(lightness, a_star, b_star, size=16):
    """A uint8 RGB patch of one CIELAB colour (rounded to 8 bits)."""
    rgb = lab2rgb(np.array([[[lightness, a_star, b_star]]], "float64"))
    return np.repeat(np.repeat(np.round(rgb * 255).astype(np.uint8), size, 0), size, 1)


@pytest.mark.parametrize(
    "target_ita, category",
    [(65, "very_light"), (48, "light"), (34, "intermediate"), (19, "tan"), (-10, "brown"), (-50, "dark")],
)
def test_ita_of_known_lab_patches_falls_in_its_category(target_ita, category):
    b_star = 15.0
    lightness = 50.0 + b_star * np.tan(np.radians(target_ita))  # ITA = target by construction
    tone = skin_tone(lab_patch(lightness, 10.0, b_star), np.ones((16, 16)))
    assert tone["ita_category"] == category
    assert tone["ita"] == pytest.approx(target_ita, abs=1.5)  # 8-bit rounding of the patch
    assert tone["lightness"] == pytest.approx(lightness, abs=0.5)
    assert tone["skin_pixels"] == 256


def test_ita_formula_and_its_safe_cases():
    lightness = np.array([70.0, 30.0, 65.0, 40.0])
    b_star = np.array([20.0, 10.0, -15.0, -5.0])
    np.testing.assert_allclose(ita_degrees(lightness, b_star), np.degrees(np.arctan((lightness - 50) / b_star)))
    assert ita_degrees(60.0, 20.0) == pytest.approx(26.565, abs=1e-3)  # arctan(1/2)
    # b* = 0: the angle's limit, +-90 by the sign of L* - 50, not a division by zero.
    assert ita_degrees(60.0, 0.0) == 90.0 and ita_degrees(40.0, 0.0) == -90.0


@pytest.mark.parametrize(
    "ita, category",
    [(90, "very_light"), (55.01, "very_light"), (55, "light"), (41.01, "light"), (41, "intermediate"),
     (28, "tan"), (10.5, "tan"), (10, "brown"), (-29.9, "brown"), (-30, "dark"), (-90, "dark"),
     (float("nan"), UNKNOWN)],
)
def test_ita_category_bounds(ita, category):
    assert ita_category(ita) == category


def test_too_few_skin_pixels_is_unknown():
    image = lab_patch(70.0, 10.0, 15.0, size=20)
    mask = np.zeros((20, 20), bool)
    mask.flat[: MIN_SKIN_PIXELS - 1] = True
    tone = skin_tone(image, mask)
    assert tone["ita_category"] == UNKNOWN and np.isnan(tone["ita"]) and tone["skin_pixels"] == 99
    mask.flat[MIN_SKIN_PIXELS - 1] = True
    assert skin_tone(image, mask)["ita_category"] == "light"  # ITA arctan(20 / 15) = 53.1
    assert skin_tone(image, mask, min_pixels=500)["ita_category"] == UNKNOWN


def test_tone_ignores_background_and_a_minority_of_lesion_pixels():
    light = lab_patch(70.0, 10.0, 15.0, size=20)  # ITA 53.1: light
    image = light.copy()
    image[:, 10:] = lab_patch(20.0, 0.0, 0.0, size=20)[:, 10:]  # dark background, right half
    mask = np.zeros((20, 20), bool)
    mask[:, :10] = True
    image[:6, :10] = lab_patch(35.0, 30.0, 20.0, size=20)[:6, :10]  # a lesion on 30% of the skin
    tone = skin_tone(image, mask)
    assert tone["ita_category"] == "light"
    assert tone["ita"] == pytest.approx(skin_tone(light, np.ones((20, 20)))["ita"], abs=0.5)


def test_mismatched_mask_raises():
    with pytest.raises(ValueError, match="same size"):
        skin_tone(np.zeros((4, 4, 3), np.uint8), np.ones((4, 5)))


def write_pairs_tsv(folder, rows):
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["\t".join(rows[0])] + ["\t".join(map(str, row)) for row in rows[1:]]
    (folder / "pairs.tsv").write_text("\n".join(lines) + "\n")


def test_read_fitzpatrick_keeps_types_one_to_six(tmp_path):
    write_pairs_tsv(tmp_path, [
        ("stem", "fitzpatrick_type"), ("a", "4"), ("b", ""), ("c", "-1"), ("d", "unknown"),
        ("e", "2.0"), ("f", "7"),
    ])
    assert read_fitzpatrick(tmp_path) == {"a": 4, "e": 2}
    write_pairs_tsv(tmp_path, [("stem", "fitzpatrick_type"), ("a", "IV")])
    with pytest.raises(ValueError, match=r"pairs.tsv: line 2: fitzpatrick_type 'IV'"):
        read_fitzpatrick(tmp_path)
    write_pairs_tsv(tmp_path, [("stem", "source_path"), ("a", "x.jpg")])
    assert read_fitzpatrick(tmp_path) == {}
    assert read_fitzpatrick(tmp_path / "nowhere") == {}


def test_skin_tones_of_the_shipped_sample():
    from skin_segmentation.data.sample import sample_datasets

    _, target = sample_datasets()
    pairs = read_folder(target)[:5]
    tones = skin_tones(pairs)
    assert list(tones["stem"]) == [pair.stem for pair in pairs]
    assert tones["fitzpatrick_type"].isna().all()  # abdomen's pairs.tsv has no such column
    known = tones[tones["ita_category"] != UNKNOWN]
    assert (known["skin_pixels"] >= MIN_SKIN_PIXELS).all()
    assert known["ita"].between(-90, 90).all()


def test_skin_tones_with_fitzpatrick_on_clinical_ft13(shared_data):
    pairs = read_folder(shared_data / "clinical_ft13")
    tones = skin_tones(pairs)
    expected = pd.read_csv(shared_data / "clinical_ft13" / "pairs.tsv", sep="\t")
    by_stem = dict(zip(expected["stem"], expected["fitzpatrick_type"]))
    assert len(tones) == len(expected)
    assert [by_stem[stem] for stem in tones["stem"]] == tones["fitzpatrick_type"].tolist()
