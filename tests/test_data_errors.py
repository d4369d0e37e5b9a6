"""Every kind of bad input: an error naming the file, or a documented conversion."""

import json

import numpy as np
import pytest
from PIL import Image

from skin_segmentation.cli import main
from skin_segmentation.data import (
    DataError,
    decode_mask,
    inspect_dataset,
    load_image,
    load_pair,
    make_dataset,
    read_folder,
)


def gradient_image(height, width):
    y, x = np.mgrid[0:height, 0:width]
    return np.stack([(x * 5) % 256, (y * 7) % 256, ((x + y) * 3) % 256], axis=-1).astype(np.uint8)


def block_mask(height, width):
    mask = np.zeros((height, width), np.uint8)
    mask[: height // 2, : width // 3] = 1
    return mask


def write_folder(root, stems=("a", "b"), size=(24, 32)):
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "masks").mkdir(parents=True, exist_ok=True)
    for stem in stems:
        Image.fromarray(gradient_image(*size)).save(root / "images" / f"{stem}.png")
        Image.fromarray(block_mask(*size) * 255).save(root / "masks" / f"{stem}.png")
    return root


def assert_names(error_info, path, words):
    message = str(error_info.value)
    assert message.startswith(f"{path}: "), message
    assert words in message, message
    assert error_info.value.path == path


def test_unreadable_image_names_the_file(tmp_path):
    root = write_folder(tmp_path / "set")
    (root / "images" / "a.png").write_bytes(b"this is not an image at all")
    with pytest.raises(DataError) as error:
        load_pair(read_folder(root)[0])
    assert_names(error, root / "images" / "a.png", "unreadable or truncated image")


def test_truncated_jpeg_names_the_file(tmp_path):
    path = tmp_path / "cut.jpg"
    Image.fromarray(gradient_image(64, 64)).save(path, quality=95)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(DataError) as error:
        load_image(path)
    assert_names(error, path, "truncated")


def test_missing_image_file_names_it(tmp_path):
    with pytest.raises(DataError) as error:
        load_image(tmp_path / "gone.jpg")
    assert_names(error, tmp_path / "gone.jpg", "no such image file")


def test_image_without_mask(tmp_path):
    root = write_folder(tmp_path / "set")
    (root / "masks" / "b.png").unlink()
    with pytest.raises(DataError) as error:
        read_folder(root)
    assert_names(error, root / "images" / "b.png", "image has no mask")


def test_mask_without_image(tmp_path):
    root = write_folder(tmp_path / "set")
    (root / "images" / "a.png").unlink()
    with pytest.raises(DataError) as error:
        read_folder(root)
    assert_names(error, root / "masks" / "a.png", "mask has no image")


def test_two_images_with_one_stem(tmp_path):
    root = write_folder(tmp_path / "set")
    Image.fromarray(gradient_image(24, 32)).save(root / "images" / "a.jpg")
    with pytest.raises(DataError, match="two files share the stem 'a'"):
        read_folder(root)


def test_mask_size_differs_from_its_image(tmp_path):
    root = write_folder(tmp_path / "set")
    Image.fromarray(block_mask(24, 30) * 255).save(root / "masks" / "a.png")
    with pytest.raises(DataError) as error:
        load_pair(read_folder(root)[0])
    assert_names(error, root / "masks" / "a.png", "mask is 30x24 (WxH) but its image")


def test_non_binary_mask(tmp_path):
    root = write_folder(tmp_path / "set")
    grey = np.tile(np.linspace(0, 255, 32).astype(np.uint8), (24, 1))  # a ramp, not a mask
    Image.fromarray(grey).save(root / "masks" / "a.png")
    with pytest.raises(DataError) as error:
        load_pair(read_folder(root)[0])
    assert_names(error, root / "masks" / "a.png", "mask is not binary")


def test_ambiguous_pixels_up_to_one_percent_are_tolerated(tmp_path):
    mask = np.zeros((100, 100), np.uint8)
    mask[:, :50] = 255
    mask[0, 50:150] = 128  # 50 grey pixels: 0.5%
    Image.fromarray(mask).save(tmp_path / "ok.png")
    assert decode_mask(tmp_path / "ok.png")[:, :50].all()
    mask[1, 50:100] = 128  # 100 grey pixels: 1.0%, still allowed
    mask[2, 50:52] = 128  # 1.02%
    Image.fromarray(mask).save(tmp_path / "bad.png")
    with pytest.raises(DataError, match=r"1\.0% of its pixels lie between 32 and 223"):
        decode_mask(tmp_path / "bad.png")


def test_colour_mask_is_an_error(tmp_path):
    mask = np.zeros((20, 20, 3), np.uint8)
    mask[:10] = (255, 0, 0)
    Image.fromarray(mask).save(tmp_path / "red.png")
    with pytest.raises(DataError, match="mask is in colour"):
        decode_mask(tmp_path / "red.png")


def test_empty_folder(tmp_path):
    (tmp_path / "empty" / "images").mkdir(parents=True)
    (tmp_path / "empty" / "masks").mkdir()
    with pytest.raises(DataError) as error:
        read_folder(tmp_path / "empty")
    assert_names(error, tmp_path / "empty" / "images", "no images found")


def test_folder_without_images_subfolder(tmp_path):
    (tmp_path / "loose").mkdir()
    with pytest.raises(DataError) as error:
        read_folder(tmp_path / "loose")
    assert_names(error, tmp_path / "loose" / "images", "no such folder")


def test_grayscale_image_is_replicated_to_rgb(tmp_path):
    grey = gradient_image(12, 16)[..., 0]
    Image.fromarray(grey).save(tmp_path / "grey.png")
    image = load_image(tmp_path / "grey.png")
    assert image.shape == (12, 16, 3)
    for channel in range(3):
        np.testing.assert_array_equal(image[..., channel], grey)


def test_rgba_image_drops_alpha(tmp_path):
    rgba = np.concatenate([gradient_image(12, 16), np.full((12, 16, 1), 40, np.uint8)], axis=-1)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "rgba.png")
    np.testing.assert_array_equal(load_image(tmp_path / "rgba.png"), rgba[..., :3])


def test_palette_image_is_expanded(tmp_path):
    palette_image = Image.fromarray(gradient_image(12, 16)).quantize(colors=16)
    assert palette_image.mode == "P"
    palette_image.save(tmp_path / "palette.png")
    np.testing.assert_array_equal(load_image(tmp_path / "palette.png"), np.asarray(palette_image.convert("RGB")))


def test_sixteen_bit_image_is_scaled_not_clipped(tmp_path):
    values = np.array([[0, 257, 32768, 65535]], np.uint16)
    Image.fromarray(values).save(tmp_path / "deep.png")
    assert Image.open(tmp_path / "deep.png").mode == "I;16"
    image = load_image(tmp_path / "deep.png")
    assert image.dtype == np.uint8
    np.testing.assert_array_equal(image[0, :, 0], [0, 1, 128, 255])


def test_sixteen_bit_mask_is_read(tmp_path):
    mask = block_mask(10, 10).astype(np.uint16) * 65535
    Image.fromarray(mask).save(tmp_path / "deep_mask.png")
    np.testing.assert_array_equal(decode_mask(tmp_path / "deep_mask.png"), block_mask(10, 10))


def test_exif_rotated_jpeg_is_made_upright(tmp_path):
    stored = np.zeros((20, 40, 3), np.uint8)
    stored[:6, :6] = 255  # a white corner, top-left as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    root = tmp_path / "phone"
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    Image.fromarray(stored).save(root / "images" / "p.jpg", exif=exif, quality=95)
    image = load_image(root / "images" / "p.jpg")
    assert image.shape == (40, 20, 3)
    np.testing.assert_allclose(image, np.rot90(stored, k=-1), atol=40)
    assert image[:6, -6:].mean() > 200  # the corner is now top-right
    # A mask drawn on the upright photograph fits; one in stored orientation does not.
    upright = np.zeros((40, 20), np.uint8)
    upright[:6, -6:] = 255
    Image.fromarray(upright).save(root / "masks" / "p.png")
    image, mask = load_pair(read_folder(root)[0])
    assert mask[:6, -6:].all()
    Image.fromarray(np.zeros((20, 40), np.uint8)).save(root / "masks" / "p.png")
    with pytest.raises(DataError, match="mask is 40x20"):
        load_pair(read_folder(root)[0])


def test_pipeline_reports_the_bad_file_not_a_tensorflow_error(tmp_path):
    root = write_folder(tmp_path / "set", stems=("a", "b", "c"))
    (root / "images" / "b.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    with pytest.raises(DataError) as error:
        make_dataset(read_folder(root), image_size=16, batch_size=2)
    assert error.value.path == root / "images" / "b.png"


def test_inspect_data_lists_every_problem(tmp_path, capsys):
    root = write_folder(tmp_path / "set", stems=("a", "b", "c", "d"))
    (root / "images" / "b.png").write_bytes(b"garbage")
    (root / "masks" / "c.png").unlink()
    Image.fromarray(block_mask(10, 10) * 255).save(root / "masks" / "d.png")
    (root / "images" / "notes.txt").write_text("not an image")
    summary = inspect_dataset(root)
    assert summary["pairs"] == 4 and summary["usable"] == 1
    assert summary["problem_count"] == 3 and summary["ignored_files"] == 1
    joined = "\n".join(summary["problems"])
    for name in ("images/b.png", "images/c.png", "masks/d.png"):
        assert str(root / name) in joined
    assert summary["sizes"] == {"32x24": 1}
    assert summary["skin_fraction"]["mean"] == pytest.approx(block_mask(24, 32).mean(), abs=1e-4)

    exit_code = main(["inspect-data", str(root)])
    out = capsys.readouterr().out.strip().splitlines()
    assert exit_code != 0 and len(out) == 1
    assert json.loads(out[0])["usable"] == 1


def test_cli_turns_a_bad_folder_into_one_line_and_exit_2(tmp_path, capsys):
    (tmp_path / "empty" / "images").mkdir(parents=True)
    (tmp_path / "empty" / "masks").mkdir()
    assert main(["inspect-data", str(tmp_path / "empty")]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert lines == [f"skinseg inspect-data: error: {tmp_path / 'empty' / 'images'}: no images found "
                     "(looked for .jpg, .jpeg, .png, .bmp, .ppm, .tif, .tiff)"]
    assert "Traceback" not in captured.err and captured.out == ""


def test_cli_inspect_data_exits_zero_on_a_clean_folder(tmp_path, capsys):
    root = write_folder(tmp_path / "clean", stems=("a", "b", "c"))
    assert main(["inspect-data", str(root)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["pairs"] == summary["usable"] == 3 and summary["problems"] == []
