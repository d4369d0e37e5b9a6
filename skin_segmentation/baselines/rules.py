"""The explicit skin-colour rules, and the interface every baseline shares.

A baseline maps a list of uint8 RGB photographs `(H_i, W_i, 3)`, at their own
sizes, to float32 confidence maps `(H_i, W_i)` in [0, 1]; a pixel is skin when
its confidence is at least 0.5 (`metrics.THRESHOLD`), as for the networks. The
rules here answer 0 or 1, pixel by pixel, in blocks of rows so that a
12-megapixel photograph needs a few tens of MB. Every threshold is in
`YCRCB_RULE` and `HSV_RULE`, with its source:

    D. Chai and K. N. Ngan, "Face segmentation using skin-color map in videophone
    applications", IEEE Trans. Circuits Syst. Video Technol. 9(4):551-564, 1999.
    K. Sobottka and I. Pitas, "Segmentation and tracking of faces in color
    images", Proc. 2nd Int. Conf. on Automatic Face and Gesture Recognition,
    236-241, 1996, and "A novel method for automatic face segmentation, facial
    feature extraction and tracking", Signal Processing: Image Communication
    12(3):263-281, 1998: skin-like regions by hue and saturation.

The HSV bounds, 0 <= H <= 50 degrees and 0.23 <= S <= 0.68, are those that
secondary sources attribute to Sobottka and Pitas (a thesis chapter surveying
explicit skin rules; an open-source skin-detection library's `HSVSobottkaPitas`
classifier); the papers' own text was not at hand to check the numbers. That
the Vezhnevets, Sazonov and Andreeva survey (GraphiCon 2003) lists this range,
as an earlier note here said, could not be confirmed; it is no longer cited.
"""

import numpy as np

# Chai and Ngan 1999: Cr and Cb of ITU-R BT.601 in full range (JPEG/JFIF, as
# OpenCV's COLOR_RGB2YCrCb), inclusive bounds.
YCRCB_RULE = {"cr": (133.0, 173.0), "cb": (77.0, 127.0)}
# Sobottka and Pitas 1996/1998: hue in degrees, saturation in [0, 1] (the HSV of
# skimage.color.rgb2hsv), inclusive bounds.
HSV_RULE = {"hue_degrees": (0.0, 50.0), "saturation": (0.23, 0.68)}
ROWS_PER_BLOCK = 512

# ITU-R BT.601 full-range RGB -> (Cr, Cb) without the +128 offset. skimage's
# rgb2ycbcr is the studio-swing variant (Cb, Cr in [16, 240]), which would move
# every pixel against Chai and Ngan's bounds, hence the explicit matrix.
_RGB_TO_CRCB = np.array(
    [[0.5, -0.418688, -0.081312], [-0.168736, -0.331264, 0.5]], dtype="float32"
).T


def _check_photos(images):
    checked = []
    for index, image in enumerate(images):
        image = np.asarray(image)
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[-1] != 3 or 0 in image.shape:
            raise ValueError(
                f"Images must be uint8 arrays of shape (height, width, 3). Received: "
                f"images[{index}] with dtype={image.dtype}, shape={image.shape}"
            )
        checked.append(image)
    return checked


def _by_blocks(image, pixel_rule):
    """Apply `pixel_rule` (uint8 `(h, W, 3)` -> float32 `(h, W)`) block by block of rows."""
    confidence = np.empty(image.shape[:2], dtype="float32")
    for start in range(0, image.shape[0], ROWS_PER_BLOCK):
        block = image[start : start + ROWS_PER_BLOCK]
        confidence[start : start + len(block)] = pixel_rule(block)
    return confidence


class Baseline:
    """A skin detector without a network: `predict(images)` -> confidence maps.

    Subclasses define `name` and `_pixel_rule`, which maps uint8 RGB pixels
    `(h, W, 3)` to float32 confidences `(h, W)`.
    """

    name = None

    def predict(self, images):
        """Skin confidence of every pixel of photographs of any sizes.

        Args:
            images: a list of uint8 RGB arrays `(H_i, W_i, 3)`.

        Returns:
            A list of float32 arrays `(H_i, W_i)` in [0, 1]; skin is `>= 0.5`.

        Raises:
            ValueError: an image is not uint8 `(H, W, 3)`.
        """
        return [_by_blocks(image, self._pixel_rule) for image in _check_photos(images)]

    def _pixel_rule(self, pixels):
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}()"


class AllSkin(Baseline):
    """Every pixel is skin.

    Example:
    >>> AllSkin().predict([np.zeros((1, 2, 3), "uint8")])[0].tolist()
    [[1.0, 1.0]]
    """

    name = "all_skin"

    def _pixel_rule(self, pixels):
        return np.ones(pixels.shape[:2], dtype="float32")


def rgb_to_crcb(pixels):
    """Cr and Cb (ITU-R BT.601, full range 0..255) of uint8 RGB pixels `(..., 3)`.

    Example:
    >>> rgb_to_crcb(np.array([[255, 0, 0]], "uint8")).round(1).tolist()
    [[255.5, 85.0]]
    """
    return np.asarray(pixels, "float32") @ _RGB_TO_CRCB + np.float32(128.0)


class YCrCbRule(Baseline):
    """Skin where `133 <= Cr <= 173` and `77 <= Cb <= 127` (Chai and Ngan 1999).

    Example:
    >>> photo = np.array([[[200, 140, 120], [40, 90, 200]]], "uint8")  # skin, sky
    >>> YCrCbRule().predict([photo])[0].tolist()
    [[1.0, 0.0]]
    """

    name = "ycrcb"

    def _pixel_rule(self, pixels):
        crcb = rgb_to_crcb(pixels)
        (cr_low, cr_high), (cb_low, cb_high) = YCRCB_RULE["cr"], YCRCB_RULE["cb"]
        cr, cb = crcb[..., 0], crcb[..., 1]
        skin = (cr >= cr_low) & (cr <= cr_high) & (cb >= cb_low) & (cb <= cb_high)
        return skin.astype("float32")


def rgb_to_hue_saturation(pixels):
    """Hue (degrees, [0, 360)) and saturation ([0, 1]) of uint8 RGB pixels `(..., 3)`.

    The HSV of `skimage.color.rgb2hsv` (hue 0 where the pixel is grey), in
    float32 and a tenth of its time on a large photograph.

    Example:
    >>> hue, saturation = rgb_to_hue_saturation(np.array([[200, 140, 120]], "uint8"))
    >>> float(hue[0]), float(saturation[0])
    (15.0, 0.4000000059604645)
    """
    pixels = np.asarray(pixels, "float32")
    red, green, blue = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    value = pixels.max(axis=-1)
    chroma = value - pixels.min(axis=-1)
    safe_chroma = np.where(chroma > 0, chroma, np.float32(1.0))
    sector = np.select(
        [chroma == 0, value == red, value == green],
        [np.float32(0.0), (green - blue) / safe_chroma, 2.0 + (blue - red) / safe_chroma],
        4.0 + (red - green) / safe_chroma,
    )
    hue = np.mod(sector * np.float32(60.0), np.float32(360.0))
    saturation = chroma / np.where(value > 0, value, np.float32(1.0))
    return hue, saturation


class HSVRule(Baseline):
    """Skin where hue is 0-50 degrees and saturation 0.23-0.68 (Sobottka and Pitas 1996, 1998).

    Example:
    >>> photo = np.array([[[200, 140, 120], [40, 90, 200]]], "uint8")  # skin, sky
    >>> HSVRule().predict([photo])[0].tolist()
    [[1.0, 0.0]]
    """

    name = "hsv"

    def _pixel_rule(self, pixels):
        hue, saturation = rgb_to_hue_saturation(pixels)
        (hue_low, hue_high), (sat_low, sat_high) = HSV_RULE["hue_degrees"], HSV_RULE["saturation"]
        skin = (hue >= hue_low) & (hue <= hue_high) & (saturation >= sat_low) & (saturation <= sat_high)
        return skin.astype("float32")

