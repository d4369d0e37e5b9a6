"""Readers on fixtures written here in each dataset's original encoding."""

import numpy as np
import pytest
from PIL import Image

from skin_segmentation.data import (
    DataError,
    decode_mask,
    detect_layout,
    load_image,
    load_mask,
    load_pair,
    read_dataset,
    read_datasets,
    read_folder,
    read_hgr,
    read_lfw_parts,
    read_lvs,
)

RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)


def gradient_image(height, width, seed=0):
    """A smooth, non-constant RGB image (compresses well, survives JPEG)."""
    y, x = np.mgrid[0:height, 0:width]
    offset = np.random.default_rng(seed).integers(0, 60, 3)
    channels = [(x * 3 + offset[0]) % 256, (y * 4 + offset[1]) % 256, ((x + y) * 2 + offset[2]) % 256]
    return np.stack(channels, axis=-1).astype(np.uint8)


def asymmetric_mask(height, width):
    """An L-shaped {0, 1} mask: no rotation or flip maps it onto itself."""
    mask = np.zeros((height, width), np.uint8)
    mask[height // 8: height * 3 // 4, width // 8: width // 4] = 1
    mask[height * 5 // 8: height * 3 // 4, width // 8: width * 3 // 4] = 1
    return mask


def write_folder(root, pairs, image_ext=".png", mask_ext=".png"):
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "masks").mkdir(parents=True, exist_ok=True)
    for stem, (image, mask) in pairs.items():
        Image.fromarray(image).save(root / "images" / f"{stem}{image_ext}")
        Image.fromarray(mask * 255).save(root / "masks" / f"{stem}{mask_ext}")
    return root


@pytest.mark.parametrize("extension", [".jpg", ".jpeg", ".png", ".bmp", ".ppm", ".tif", ".JPG"])
def test_folder_reads_every_image_extension(tmp_path, extension):
    image, mask = gradient_image(24, 32), asymmetric_mask(24, 32)
    write_folder(tmp_path / "clinic", {"b": (image, mask), "a": (image, mask)}, image_ext=extension)
    pairs = read_folder(tmp_path / "clinic")
    assert [p.stem for p in pairs] == ["a", "b"]
    assert all(p.source == "clinic" and p.mask_encoding == "white_is_skin" for p in pairs)
    assert pairs[0].image.name == f"a{extension}" and pairs[0].mask.name == "a.png"
    loaded_image, loaded_mask = load_pair(pairs[0])
    assert loaded_image.dtype == np.uint8 and loaded_image.shape == (24, 32, 3)
    np.testing.assert_array_equal(loaded_mask, mask)
    if extension.lower() in (".png", ".bmp", ".ppm", ".tif"):
        np.testing.assert_array_equal(loaded_image, image)
    else:
        assert np.abs(loaded_image.astype(int) - image).mean() < 6


@pytest.mark.parametrize("mask_ext", [".png", ".bmp", ".tif"])
def test_folder_masks_in_lossless_formats(tmp_path, mask_ext):
    mask = asymmetric_mask(16, 16)
    write_folder(tmp_path / "set", {"x": (gradient_image(16, 16), mask)}, mask_ext=mask_ext)
    np.testing.assert_array_equal(load_mask(read_folder(tmp_path / "set")[0]), mask)


def test_zero_one_masks_are_accepted_as_is(tmp_path):
    mask = asymmetric_mask(16, 16)
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    Image.fromarray(gradient_image(16, 16)).save(tmp_path / "images" / "p.png")
    Image.fromarray(mask).save(tmp_path / "masks" / "p.png")  # values 0 and 1
    np.testing.assert_array_equal(load_mask(read_folder(tmp_path)[0]), mask)


def test_jpeg_compressed_mask_is_thresholded_at_127(tmp_path):
    mask = np.zeros((64, 64), np.uint8)
    mask[13:45, 5:37] = 1
    path = tmp_path / "mask.jpg"
    Image.fromarray(mask * 255).save(path, quality=75)
    noisy = np.asarray(Image.open(path))
    assert len(np.unique(noisy)) > 2  # compression did leave grey levels
    np.testing.assert_array_equal(decode_mask(path), mask)


def test_pairs_tsv_lists_the_pairs(tmp_path):
    image, mask = gradient_image(8, 8), asymmetric_mask(8, 8)
    root = write_folder(tmp_path / "set", {"a": (image, mask), "b": (image, mask)})
    (root / "pairs.tsv").write_text("stem\tsource_path\na\tx/a.jpg\nb\tx/b.jpg\n")
    assert [p.stem for p in read_folder(root)] == ["a", "b"]
    (root / "pairs.tsv").write_text("stem\tsource_path\na\tx/a.jpg\nb\tx/b.jpg\nc\tx/c.jpg\n")
    with pytest.raises(DataError) as error:
        read_folder(root)
    assert error.value.path == root / "pairs.tsv" and "'c'" in error.value.problem
    (root / "pairs.tsv").write_text("stem\na\n")
    with pytest.raises(DataError, match="not listed in pairs.tsv") as error:
        read_folder(root)
    assert error.value.path == root / "images" / "b.png"


def test_hgr_original_layout_black_is_skin(tmp_path):
    root = tmp_path / "hgr1"
    (root / "original_images").mkdir(parents=True)
    (root / "skin_masks").mkdir()
    skin = asymmetric_mask(30, 40)
    Image.fromarray(gradient_image(30, 40)).save(root / "original_images" / "A_P_hgr1_id01_1.jpg", quality=95)
    # HGR masks: 1-bit BMP, skin black (0), background white.
    Image.fromarray(((1 - skin) * 255).astype(np.uint8)).convert("1").save(
        root / "skin_masks" / "A_P_hgr1_id01_1.bmp"
    )
    # Some HGR masks are 8-bit; same convention.
    Image.fromarray(gradient_image(30, 40, seed=1)).save(root / "original_images" / "B_P_hgr1_id02_1.jpg")
    Image.fromarray(((1 - skin) * 255).astype(np.uint8)).save(root / "skin_masks" / "B_P_hgr1_id02_1.bmp")
    assert Image.open(root / "skin_masks" / "A_P_hgr1_id01_1.bmp").mode == "1"
    assert detect_layout(root) == "hgr"
    pairs = read_hgr(root)
    assert [p.mask_encoding for p in pairs] == ["black_is_skin", "black_is_skin"]
    assert read_dataset(root) == pairs
    for pair in pairs:
        image, mask = load_pair(pair)
        np.testing.assert_array_equal(mask, skin)
        assert mask.sum() == skin.sum() and mask[0, 0] == 0


def write_lfw(root, people):
    """LFW Part Labels layout: funneled JPEGs per person, flat .ppm ground truth."""
    labels = root / "parts_lfw_funneled_gt_images"
    labels.mkdir(parents=True)
    for stem, ground_truth in people.items():
        person = stem.rsplit("_", 1)[0]
        (root / "lfw_funneled" / person).mkdir(parents=True, exist_ok=True)
        Image.fromarray(gradient_image(250, 250)).save(root / "lfw_funneled" / person / f"{stem}.jpg")
        Image.fromarray(ground_truth).save(labels / f"{stem}.ppm")
    return root


def lfw_ground_truth():
    truth = np.zeros((250, 250, 3), np.uint8)
    truth[:] = BLUE
    truth[20:80, 60:190] = RED  # hair
    truth[80:200, 70:180] = GREEN  # face
    truth[200:250, 100:150] = GREEN  # neck
    return truth


def test_lfw_part_labels_skin_is_the_green_class(tmp_path):
    truth = lfw_ground_truth()
    root = write_lfw(tmp_path / "lfw", {"Aaron_Peirsol_0001": truth, "Zico_0002": truth[:, ::-1].copy()})
    raw = (tmp_path / "lfw" / "parts_lfw_funneled_gt_images" / "Zico_0002.ppm").read_bytes()
    assert raw.startswith(b"P6")  # binary PPM, as distributed
    assert detect_layout(root) == "lfw_parts"
    pairs = read_lfw_parts(root / "lfw_funneled", root / "parts_lfw_funneled_gt_images")
    assert [p.stem for p in pairs] == ["Aaron_Peirsol_0001", "Zico_0002"]
    assert pairs[0].image == root / "lfw_funneled" / "Aaron_Peirsol" / "Aaron_Peirsol_0001.jpg"
    expected = np.zeros((250, 250), np.uint8)
    expected[80:200, 70:180] = 1
    expected[200:250, 100:150] = 1
    image, mask = load_pair(pairs[0])
    assert image.shape == (250, 250, 3)
    np.testing.assert_array_equal(mask, expected)
    np.testing.assert_array_equal(load_mask(pairs[1]), expected[:, ::-1])
    assert [p.stem for p in read_dataset(root)] == ["Aaron_Peirsol_0001", "Zico_0002"]


def test_lfw_near_colours_go_to_the_nearest_class(tmp_path):
    truth = lfw_ground_truth()
    truth[100:110, 100:110] = (20, 230, 15)  # slightly off green: still skin
    truth[0:5, 0:5] = (240, 30, 10)  # slightly off red: hair
    root = write_lfw(tmp_path / "lfw", {"Ann_0001": truth})
    mask = load_mask(read_dataset(root)[0])
    assert mask[100:110, 100:110].all() and not mask[0:5, 0:5].any()


def test_lfw_colours_far_from_all_classes_are_an_error(tmp_path):
    truth = lfw_ground_truth()
    truth[0:40, 0:40] = (255, 255, 255)  # white: 2.6% of the pixels, no class
    root = write_lfw(tmp_path / "lfw", {"Ann_0001": truth})
    pair = read_dataset(root)[0]
    with pytest.raises(DataError, match="far from the hair/skin/background") as error:
        load_mask(pair)
    assert error.value.path == pair.mask


def test_lvs_frames_with_per_frame_masks(tmp_path):
    root = tmp_path / "lvs"
    expected = {}
    for video, shift in (("video01", 0), ("video02", 5)):
        (root / video / "frames").mkdir(parents=True)
        (root / video / "masks").mkdir()
        for frame in ("000001", "000002"):
            mask = np.roll(asymmetric_mask(32, 48), shift + int(frame), axis=1)
            Image.fromarray(gradient_image(32, 48)).save(root / video / "frames" / f"{frame}.jpg")
            Image.fromarray(mask * 255).save(root / video / "masks" / f"{frame}.png")
            expected[f"{video}__{frame}"] = mask
    assert detect_layout(root) == "lvs"
    pairs = read_lvs(root)
    assert [p.stem for p in pairs] == sorted(expected)
    assert {p.source for p in pairs} == {"lvs"} and {p.mask_encoding for p in pairs} == {"lvs"}
    for pair in pairs:
        np.testing.assert_array_equal(load_pair(pair)[1], expected[pair.stem])
    (root / "video02" / "masks" / "000002.png").unlink()
    with pytest.raises(DataError, match="image has no mask") as error:
        read_lvs(root)
    assert error.value.path == root / "video02" / "frames" / "000002.jpg"


def test_read_datasets_concatenates_and_rejects_shared_stems(tmp_path):
    image, mask = gradient_image(8, 8), asymmetric_mask(8, 8)
    first = write_folder(tmp_path / "first", {"a": (image, mask), "b": (image, mask)})
    second = write_folder(tmp_path / "second", {"c": (image, mask)})
    pairs = read_datasets([first, second])
    assert [(p.source, p.stem) for p in pairs] == [("first", "a"), ("first", "b"), ("second", "c")]
    clash = write_folder(tmp_path / "third", {"b": (image, mask)})
    with pytest.raises(DataError, match="stem 'b' also appears") as error:
        read_datasets([first, clash])
    assert error.value.path == clash / "images" / "b.png"


def test_load_image_keeps_values_of_an_rgb_png(tmp_path):
    image = gradient_image(10, 12)
    Image.fromarray(image).save(tmp_path / "x.png")
    np.testing.assert_array_equal(load_image(tmp_path / "x.png"), image)
