"""The catalogue of public skin datasets that `skinseg data get` can fetch, as data.

Each entry names one public repository pinned at one commit (published as
`<mirror>/<owner>/<repo>/archive/<commit>.tar.gz`, one top folder `<repo>-<commit>/`),
what the converted folder holds, the rule that turns its labels into masks
(`convert.MASK_RULES`), its licence and terms, and how to cite it. The facts come
from `../shared/data/SOURCES.md`, where every folder was built from these commits.
Download sizes were never measured (the host cannot be reached from where this was
written), so they are `None` and shown as "not measured"; likewise no archive
SHA-256 is pinned: the converted pairs are checked against the shipped manifests.
"""

import dataclasses

DEFAULT_MIRROR = "https://github.com"


@dataclasses.dataclass(frozen=True)
class DatasetSource:
    """One dataset: where it comes from, what it becomes, and on what terms.

    Args:
        name: the name `skinseg data get` takes (`ecu-test` for ECU's test split).
        folder: the folder it is written to under the data root.
        pairs: image-mask pairs once converted (`None` where no manifest counts them).
        role: what it is for here (pre-training pool, target, clinical, ...).
        description: what the photographs show.
        repository: `owner/name` of the public repository holding it.
        commit: the pinned commit (40 hex digits).
        mask_rule: key of `convert.MASK_RULES` turning a source label into a mask.
        licence: the licence or terms, in a few words.
        terms: what the user accepts by downloading it.
        citation: the works to cite.
        downsize_max_side: longest side of `--downsize` (ECU and CCP, which the
            shared data holds downsized), else `None`.
        archive_sha256: SHA-256 of the archive where known, else `None`.
        download_bytes: size of the archive where measured, else `None`.
        evaluation_only: a held-out split that must never be trained on.

    Example:
    >>> source = CATALOG["abdomen"]
    >>> source.archive_url("http://127.0.0.1:8000")[:60]
    'http://127.0.0.1:8000/MRE-Lab-UMD/abd-skin-segmentation/arch'
    >>> source.archive_top
    'abd-skin-segmentation-2370c5118aa9da3c40b05842d723b529ba2f601b'
    """

    name: str
    folder: str
    pairs: int | None
    role: str
    description: str
    repository: str
    commit: str
    mask_rule: str
    licence: str
    terms: str
    citation: str
    downsize_max_side: int | None = None
    archive_sha256: str | None = None
    download_bytes: int | None = None
    evaluation_only: bool = False

    def archive_url(self, mirror=DEFAULT_MIRROR):
        """The address of the pinned archive under `mirror` (scheme and host)."""
        return f"{mirror.rstrip('/')}/{self.repository}/archive/{self.commit}.tar.gz"

    @property
    def archive_top(self):
        """The one top folder of the archive: `<repo>-<commit>`."""
        return f"{self.repository.split('/')[1]}-{self.commit}"

    @property
    def archive_name(self):
        """A file name for the downloaded archive, unique per repository and commit."""
        return f"{self.repository.replace('/', '+')}@{self.commit}.tar.gz"

    @property
    def download_size(self):
        """The archive's size for people: `"123.4 MB"` or `"not measured"`."""
        if self.download_bytes is None:
            return "not measured"
        return f"{self.download_bytes / 1e6:.1f} MB"


_ABD_REPO = "MRE-Lab-UMD/abd-skin-segmentation"
_DERMSYNTH = ("sfu-mial/DermSynth3D", "c6d6a3d66c8e1a041749ce35ee98aa211d310115")
_SKINNY = ("ttarasiewicz/Skinny", "1819dd95620e1d271e63da59ddf7e09381326df5")
_ECU_CITATION = (
    "S.L. Phung, A. Bouzerdoum, D. Chai, \"Skin segmentation using color pixel "
    "classification: analysis and comparison\", IEEE TPAMI 27(1):148-154, 2005.\n"
    "M. Tarasiewicz, J. Nalepa, M. Kawulok, \"Skinny: A Lightweight U-Net for Skin "
    "Detection and Segmentation\", ICIP 2020 (the train/val/test split)."
)
_ECU_TERMS = (
    "ECU face and skin detection database: research use; ask the ECU authors "
    "(S.L. Phung et al.) for any other use. Do not redistribute it."
)

_SOURCES = (
    DatasetSource(
        name="sfa",
        folder="sfa",
        pairs=1118,
        role="pre-training pool (healthy skin)",
        description="frontal faces (FERET and AR), 512x768 and 768x576",
        repository=_ABD_REPO,
        commit="6aeddacb40d492d6b48073809d3a8fe48f83e4ac",
        mask_rule="grey_above_127",
        licence="research use; FERET and AR terms apply to the photographs",
        terms=(
            "SFA is built on FERET and AR facial images: the terms of those databases "
            "apply to the photographs (research use). The repository that carries "
            "this copy is Apache-2.0. Cite SFA; do not redistribute it whole."
        ),
        citation=(
            "J.P.B. Casati, D.R. Moraes, E.L.L. Rodrigues, \"SFA: A human skin image "
            "database based on FERET and AR facial images\", IX Workshop de Visao "
            "Computacional, 2013."
        ),
    ),
    DatasetSource(
        name="fasseg",
        folder="fasseg",
        pairs=208,
        role="pre-training pool (healthy skin)",
        description="frontal faces with multi-class labels (frontal02 + frontal03), height 512",
        repository="JeknJok/skin-segmentation",
        commit="047c75cb433d011f7bcddd5c72b7ef2012204e0c",
        mask_rule="fasseg_skin_and_nose",
        licence="terms of the FASSEG authors (Mendeley Data record)",
        terms=(
            "FASSEG's terms are those of its authors' Mendeley Data record "
            "(doi:10.17632/sv7ns5xv7f.1); research use with citation. Do not "
            "redistribute it whole."
        ),
        citation=(
            "K. Khan, M. Mauro, R. Leonardi, \"Multi-class semantic segmentation of "
            "faces\", ICIP 2015.\n"
            "S. Benini et al., \"FASSEG: a FAce Semantic SEGmentation repository for "
            "face image analysis (v2019)\", Mendeley Data, doi:10.17632/sv7ns5xv7f.1."
        ),
    ),
    DatasetSource(
        name="hgr_subset",
        folder="hgr_subset",
        pairs=178,
        role="pre-training pool (healthy skin)",
        description="hand gestures, HGR1 106 + HGR2B 72; only the gesturing hand is labelled",
        repository="jafear11/Project_PIV",
        commit="e4c577b0e93d3cd6bddd746b2ba1c001f77eedaa",
        mask_rule="black_is_skin",
        licence="free for research (HGR authors)",
        terms="HGR is free for research use per its authors. Cite both papers.",
        citation=(
            "M. Kawulok, J. Kawulok, J. Nalepa, B. Smolka, \"Self-adaptive algorithm "
            "for segmenting skin regions\", EURASIP J. Adv. Signal Process. 2014:170.\n"
            "J. Nalepa, M. Kawulok, \"Fast and accurate hand shape classification\", "
            "BDAS 2014."
        ),
    ),
    DatasetSource(
        name="abdomen",
        folder="abdomen",
        pairs=617,
        role="target domain (100 train / 300 evaluate)",
        description="abdominal photographs, light and dark skin, 227x227",
        repository=_ABD_REPO,
        commit="2370c5118aa9da3c40b05842d723b529ba2f601b",
        mask_rule="grey_above_127",
        licence="repository Apache-2.0; images collected from the web",
        terms=(
            "The repository is Apache-2.0; its images were collected from the web, "
            "so their authors' rights apply. Research use; cite the paper."
        ),
        citation=(
            "A. Topiwala, L. Al-Zogbi, T. Fleiter, A. Krieger, \"Adaptation and "
            "Evaluation of Deep Learning Techniques for Skin Segmentation on Novel "
            "Abdominal Dataset\", IEEE BIBE 2019."
        ),
    ),
    DatasetSource(
        name="ecu",
        folder="ecu",
        pairs=1997,
        role="in-the-wild people, pre-training pool (ECU train + val only)",
        description="people in real scenes: faces, necks, arms, many skin tones and lights",
        repository=_SKINNY[0],
        commit=_SKINNY[1],
        mask_rule="first_channel_above_127",
        licence="research use (ECU authors)",
        terms=_ECU_TERMS,
        citation=_ECU_CITATION,
        downsize_max_side=320,
    ),
    DatasetSource(
        name="ecu-test",
        folder="ecu_test",
        pairs=None,
        role="EVALUATION ONLY: ECU's test split (Skinny's dataset/test.txt)",
        description="the 2000 ECU pairs held out for evaluation; never train on them",
        repository=_SKINNY[0],
        commit=_SKINNY[1],
        mask_rule="first_channel_above_127",
        licence="research use (ECU authors)",
        terms=_ECU_TERMS,
        citation=_ECU_CITATION,
        downsize_max_side=320,
        evaluation_only=True,
    ),
    DatasetSource(
        name="ccp",
        folder="ccp",
        pairs=1004,
        role="in-the-wild people, pre-training pool (noisy: bystanders unlabelled)",
        description="full-body street photographs (Clothing Co-Parsing); skin = label 41",
        repository="bearpaw/clothing-co-parsing",
        commit="fe34fb77721a9973fbae92c05f7f12b664d10110",
        mask_rule="ccp_label_41",
        licence="repository Apache-2.0 file; photographs from a fashion site",
        terms=(
            "The repository carries an Apache-2.0 file; the photographs come from a "
            "fashion website, whose authors' rights apply. Research use; cite the paper."
        ),
        citation=(
            "W. Yang, P. Luo, L. Lin, \"Clothing Co-Parsing by Joint Image Segmentation "
            "and Labeling\", CVPR 2014."
        ),
        downsize_max_side=384,
    ),
    DatasetSource(
        name="clinical_ft13",
        folder="clinical_ft13",
        pairs=13,
        role="clinical: fine-tuning examples of diseased skin (not a test set)",
        description="clinical dermatology photographs (Fitzpatrick17k) with DermSynth3D skin masks",
        repository=_DERMSYNTH[0],
        commit=_DERMSYNTH[1],
        mask_rule="nonskin_inverted",
        licence="CC BY-NC-SA 3.0 (NON-COMMERCIAL)",
        terms=(
            "The photographs are CC BY-NC-SA 3.0: NON-COMMERCIAL use only, with "
            "attribution, and anything derived from them shared alike. Never ship "
            "them inside a package or product."
        ),
        citation=(
            "M. Groh et al., \"Evaluating Deep Neural Networks Trained on Clinical "
            "Images in Dermatology with the Fitzpatrick 17k Dataset\", CVPR Workshops 2021.\n"
            "A. Sinha, J. Kawahara, A. Pakzad et al., \"DermSynth3D: Synthesis of "
            "in-the-wild annotated dermatology images\", Medical Image Analysis 2024."
        ),
    ),
    DatasetSource(
        name="negatives_indoor",
        folder="negatives_indoor",
        pairs=300,
        role="negatives: indoor scenes with no person (all-zero masks)",
        description="photo-realistic renders of indoor rooms (SceneNet RGB-D), 320x240",
        repository=_DERMSYNTH[0],
        commit=_DERMSYNTH[1],
        mask_rule="all_zero",
        licence="research use (SceneNet RGB-D)",
        terms="SceneNet RGB-D renders: research use. Never ship them inside a package.",
        citation=(
            "J. McCormac, A. Handa, S. Leutenegger, A. Davison, \"SceneNet RGB-D\", "
            "ICCV 2017.\n"
            "A. Sinha, J. Kawahara, A. Pakzad et al., \"DermSynth3D\", Medical Image "
            "Analysis 2024 (the sample of renders)."
        ),
    ),
)

CATALOG = {source.name: source for source in _SOURCES}


def get_source(name):
    """The catalogue entry called `name` (`ecu_test` is taken for `ecu-test`).

    Raises:
        ValueError: for a name not in the catalogue, listing those that are.

    Example:
    >>> get_source("ecu_test").folder
    'ecu_test'
    >>> get_source("lfw")
    Traceback (most recent call last):
    ...
    ValueError: unknown dataset 'lfw': choose from sfa, fasseg, hgr_subset, abdomen, ecu, ecu-test, ccp, clinical_ft13, negatives_indoor
    """
    key = "ecu-test" if name == "ecu_test" else name
    if key not in CATALOG:
        raise ValueError(f"unknown dataset {name!r}: choose from {', '.join(CATALOG)}")
    return CATALOG[key]


def describe(sources=None):
    """The catalogue for people (`skinseg data list`): one block per dataset.

    Example:
    >>> print(describe([CATALOG["clinical_ft13"]]).splitlines()[0])
    clinical_ft13  13 pairs  download: not measured  folder: clinical_ft13/
    """
    blocks = []
    for source in CATALOG.values() if sources is None else sources:
        pairs = f"{source.pairs} pairs" if source.pairs is not None else "pairs: as test.txt lists"
        blocks.append(
            f"{source.name}  {pairs}  download: {source.download_size}  folder: {source.folder}/\n"
            f"  role:    {source.role}\n"
            f"  what:    {source.description}\n"
            f"  from:    {source.repository} @ {source.commit[:12]}\n"
            f"  licence: {source.licence}\n"
            + "".join(f"  cite:    {line}\n" for line in source.citation.splitlines())
        )
    return "\n".join(blocks).rstrip("\n")
