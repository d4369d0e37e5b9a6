"""Four example photographs from the shipped sample, for a first run in seconds.

`skinseg predict --examples --out masks/` segments them with the bundled U-Net:
a face (FASSEG), a hand (HGR) and two abdomens, one light and one dark
(Topiwala et al.). They are files of `sample/`, chosen among those the bundled
weights never trained on (split `held_out` of `weights/unet_splits.json`: the
validation split and the images not drawn), and none from SFA, whose FERET/AR
photographs carry the strictest terms. Sources,
citations and terms: the "Examples" section of `sample/ATTRIBUTION.md`.
"""

import dataclasses
from pathlib import Path

from skin_segmentation.data.sample import SAMPLE_ROOT


@dataclasses.dataclass(frozen=True)
class Example:
    """One example photograph: `sample/<source>/images/<stem>.jpg`, what it shows."""

    source: str
    stem: str
    shows: str

    @property
    def image(self):
        return SAMPLE_ROOT / self.source / "images" / f"{self.stem}.jpg"

    @property
    def mask(self):
        return SAMPLE_ROOT / self.source / "masks" / f"{self.stem}.png"


EXAMPLES = (
    Example("fasseg", "fasseg_frontal02_test_50", "a face"),
    Example("hgr_subset", "3_P_hgr1_id03_2", "a hand and forearm"),
    Example("abdomen", "abd_train_188", "an abdomen, light skin"),
    Example("abdomen", "abd_train_149", "an abdomen, dark skin"),
)


def example_photos():
    """The paths of the example photographs, in `EXAMPLES` order.

    Returns:
        A list of `Path`s to JPEG files of the shipped sample.

    Raises:
        FileNotFoundError: the installed package lacks its sample.

    Example:
    >>> [path.name for path in example_photos()][:2]
    ['fasseg_frontal02_test_50.jpg', '3_P_hgr1_id03_2.jpg']
    """
    paths = [example.image for example in EXAMPLES]
    for path in paths:
        if not path.is_file():
            raise FileNotFoundError(
                f"{path}: an example photograph is missing; reinstall the package."
            )
    return [Path(path) for path in paths]
