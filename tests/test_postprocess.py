"""`postprocess.fill_small_holes`: non-skin islands under a share of the mask become skin."""

import numpy as np
import pytest

from skin_segmentation.postprocess import DEFAULT_FILL_ENCLOSED, DEFAULT_FILL_HOLES, fill_small_holes


def all_skin_with_hole(side, top=40, left=40, size=100):
    """A `size` x `size` all-skin uint8 mask (0/255) with a `side` x `side` non-skin square."""
    mask = np.full((size, size), 255, np.uint8)
    mask[top : top + side, left : left + side] = 0
    return mask


def test_a_hole_under_the_share_is_filled_and_one_over_it_kept():
    # 100 x 100 at 0.5%: regions of fewer than 50 pixels are filled.
    small = all_skin_with_hole(5)  # 25 pixels, 0.25%
    filled = fill_small_holes(small, DEFAULT_FILL_HOLES)
    assert np.count_nonzero(filled == 0) == 0 and set(np.unique(filled)) == {255}
    large = all_skin_with_hole(10)  # 100 pixels, 1%
    np.testing.assert_array_equal(fill_small_holes(large, DEFAULT_FILL_HOLES), large)
    both = np.minimum(small, all_skin_with_hole(10, top=70, left=70))
    assert np.count_nonzero(fill_small_holes(both, DEFAULT_FILL_HOLES) == 0) == 100


def test_the_threshold_is_strictly_fewer_pixels():
    # int(0.005 * 10000) = 50: a hole of 49 pixels is filled, one of 50 kept.
    mask = np.ones((100, 100), np.uint8)
    mask[10, 10:59] = 0
    mask[50, 10:60] = 0
    assert np.count_nonzero(fill_small_holes(mask, 0.005) == 0) == 50


def test_a_small_non_skin_region_on_the_border_is_filled_too():
    mask = all_skin_with_hole(4, top=0, left=96)  # the top-right corner, 16 pixels
    mask[96:, 30:40] = 0  # a strip along the bottom edge, 40 pixels
    assert np.count_nonzero(mask == 0) == 56
    assert np.count_nonzero(fill_small_holes(mask, DEFAULT_FILL_HOLES) == 0) == 0


def test_skin_specks_in_background_are_left_alone():
    mask = np.zeros((100, 100), bool)
    mask[20, 20] = mask[50:52, 60:62] = True
    filled = fill_small_holes(mask, DEFAULT_FILL_HOLES)
    np.testing.assert_array_equal(filled, mask)


@pytest.mark.parametrize("dtype, skin", [(bool, True), (np.uint8, 1), (np.uint8, 255)])
def test_the_dtype_and_the_skin_value_are_kept(dtype, skin):
    mask = np.full((100, 100), skin, dtype)
    mask[3:8, 3:8] = 0
    filled = fill_small_holes(mask, DEFAULT_FILL_HOLES)
    assert filled.dtype == np.dtype(dtype)
    assert filled.tolist() == np.full((100, 100), skin, dtype).tolist()
    assert np.count_nonzero(mask == 0) == 25  # the input is not changed


def test_zero_returns_the_mask_itself():
    mask = all_skin_with_hole(5)
    assert fill_small_holes(mask, 0) is mask
    assert fill_small_holes(mask, 0.0) is mask
    assert fill_small_holes(mask, 0.0, enclosed_fraction=DEFAULT_FILL_ENCLOSED) is mask  # all off


@pytest.mark.parametrize("fraction", [-0.1, 1.0, float("nan"), "half"])
def test_a_share_outside_zero_to_one_is_refused_showing_it(fraction):
    with pytest.raises(ValueError, match=f"Received: fill_holes={fraction!r}".replace("(", r"\(")):
        fill_small_holes(all_skin_with_hole(5), fraction)


def test_a_mask_that_is_not_2d_is_refused():
    with pytest.raises(ValueError, match=r"shape=\(10, 10, 1\)"):
        fill_small_holes(np.ones((10, 10, 1), np.uint8), 0.1)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fills_what_scikit_images_remove_small_holes_fills(seed):
    from skimage.morphology import remove_small_holes

    rng = np.random.default_rng(seed)
    mask = rng.random((120, 90)) < 0.6  # many holes and specks of every size
    smallest_kept = int(0.005 * mask.size)
    try:  # scikit-image >= 0.26: holes of at most `max_size` pixels
        expected = remove_small_holes(mask, max_size=smallest_kept - 1)
    except TypeError:  # before: holes of fewer than `area_threshold` pixels
        expected = remove_small_holes(mask, area_threshold=smallest_kept)
    filled = fill_small_holes(mask, 0.005)
    assert filled.sum() > mask.sum()
    np.testing.assert_array_equal(filled, expected)


def test_more_regions_than_sixteen_bit_labels_hold_are_filled_all_the_same():
    mask = np.ones((600, 600), bool)
    mask[::2, ::2] = False  # 90,000 one-pixel holes: more than 65,535 labels
    assert fill_small_holes(mask, DEFAULT_FILL_HOLES).all()


def test_in_place_fills_the_callers_array_and_the_default_leaves_it_alone():
    mask = np.ones((100, 100), "uint8")
    mask[40:45, 40:45] = 0
    filled = fill_small_holes(mask, DEFAULT_FILL_HOLES)
    assert filled.all() and mask.sum() == 100 * 100 - 25
    assert fill_small_holes(mask, DEFAULT_FILL_HOLES, in_place=True) is mask and mask.all()


def test_a_hole_that_skin_encloses_is_filled_up_to_the_enclosed_share_and_an_edge_region_is_not():
    # 100 x 100: 1% is 100 pixels. Two 9 x 9 regions (81 pixels, 0.81%): one inside the skin,
    # one in the top-left corner. Over the 0.5% share both; under the enclosed 1% only the first.
    mask = np.minimum(all_skin_with_hole(9, top=40, left=40), all_skin_with_hole(9, top=0, left=0))
    np.testing.assert_array_equal(fill_small_holes(mask, DEFAULT_FILL_HOLES), mask)
    filled = fill_small_holes(mask, DEFAULT_FILL_HOLES, enclosed_fraction=DEFAULT_FILL_ENCLOSED)
    assert np.count_nonzero(filled[40:49, 40:49] == 0) == 0
    np.testing.assert_array_equal(filled[:9, :9], 0)
    assert np.count_nonzero(filled == 0) == 81
    # An enclosed hole of 1% or more is kept.
    large = all_skin_with_hole(10)
    np.testing.assert_array_equal(fill_small_holes(large, 0.005, enclosed_fraction=0.01), large)


@pytest.mark.parametrize("seed", [0, 1])
def test_any_enclosed_share_fills_what_scipys_binary_fill_holes_fills(seed):
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    mask = rng.random((80, 70)) < 0.55
    # A share of 1e-6 fills no region at the edges (fewer than int(0.0056) = 0 pixels).
    filled = fill_small_holes(mask, 1e-6, enclosed_fraction=0.999)
    assert filled.sum() > mask.sum()
    np.testing.assert_array_equal(filled, ndimage.binary_fill_holes(mask))


def test_an_enclosed_share_outside_zero_to_one_is_refused_naming_it():
    with pytest.raises(ValueError, match=r"Received: fill_enclosed=1\.5"):
        fill_small_holes(all_skin_with_hole(5), 0.005, enclosed_fraction=1.5)
