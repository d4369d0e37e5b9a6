"""`skinseg data list | get | verify`, offline: archives made from the raw samples, served on 127.0.0.1."""

import csv
import dataclasses
import gzip
import io
import shutil

import numpy as np
import pytest
from archive_server import ArchiveServer, archive_url_path, build_archive, closed_port
from PIL import Image

from skin_segmentation.cli import main
from skin_segmentation.data import catalog, fetch
from skin_segmentation.data.convert import FASSEG_CLASSES_TEXT, convert_pair, downsize_mask
from skin_segmentation.data.manifest import MANIFEST_DIR, read_manifest, verify_folder
from skin_segmentation.data.readers import DataError

RAW_FOLDERS = {
    "sfa": "MRE-Lab-UMD+abd-skin-segmentation@6aeddacb40d492d6b48073809d3a8fe48f83e4ac",
    "abdomen": "MRE-Lab-UMD+abd-skin-segmentation@2370c5118aa9da3c40b05842d723b529ba2f601b",
    "fasseg": "JeknJok+skin-segmentation@047c75cb433d011f7bcddd5c72b7ef2012204e0c",
    "hgr_subset": "jafear11+Project_PIV@e4c577b0e93d3cd6bddd746b2ba1c001f77eedaa",
    "clinical_ft13": "sfu-mial+DermSynth3D@c6d6a3d66c8e1a041749ce35ee98aa211d310115",
    "negatives_indoor": "sfu-mial+DermSynth3D@c6d6a3d66c8e1a041749ce35ee98aa211d310115",
    "ecu": "ttarasiewicz+Skinny@1819dd95620e1d271e63da59ddf7e09381326df5",
    "ccp": "bearpaw+clothing-co-parsing@fe34fb77721a9973fbae92c05f7f12b664d10110",
}


@pytest.fixture
def raw_samples(shared_data):
    folder = shared_data / "raw_samples"
    if not folder.is_dir():
        pytest.skip("../shared/data/raw_samples is not present on this machine")
    return folder


@pytest.fixture(autouse=True)
def no_environment(monkeypatch):
    for variable in (fetch.DATA_DIR_ENV, fetch.MIRROR_ENV, fetch.ACCEPT_TERMS_ENV):
        monkeypatch.delenv(variable, raising=False)


def first_stems(name, count=3):
    return [row["stem"] for row in read_manifest(name)[0][:count]]


def serve(raw_samples, name, **archive_options):
    folder = raw_samples / RAW_FOLDERS[name]
    return {archive_url_path(folder): build_archive(folder, **archive_options)}


def decoded(path):
    return np.asarray(Image.open(path))


def nothing_complete(root, folder):
    """Neither the dataset folder nor its half-built twin exists."""
    return not (root / folder).exists() and not (root / f".{folder}.partial").exists()


def error_line(stderr):
    """The one error line of `skinseg` (progress lines may precede it)."""
    errors = [line for line in stderr.splitlines() if line.startswith("skinseg data: error: ")]
    assert len(errors) == 1 and stderr.rstrip().endswith(errors[0])
    return errors[0]


def tsv_rows(path, count=None):
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter="\t"))
    return rows if count is None else rows[: count + 1]


# ----------------------------------------------------------------------------- catalogue


def test_list_shows_every_dataset_with_pairs_size_licence_citation_and_role(capsys):
    assert main(["data", "list"]) == 0
    out = capsys.readouterr().out
    for name, pairs in [("sfa", 1118), ("fasseg", 208), ("hgr_subset", 178), ("abdomen", 617),
                        ("ecu", 1997), ("ccp", 1004), ("clinical_ft13", 13), ("negatives_indoor", 300)]:
        assert f"{name}  {pairs} pairs  download: not measured" in out
    assert out.count("  role:") == len(catalog.CATALOG) == out.count("  licence:")
    assert "CC BY-NC-SA 3.0 (NON-COMMERCIAL)" in out and "EVALUATION ONLY" in out
    assert "Topiwala" in out and "Casati" in out


# ----------------------------------------------------------------------------- conversion


@pytest.mark.parametrize("name", list(RAW_FOLDERS))
def test_conversion_reproduces_the_shared_pairs(raw_samples, shared_data, tmp_path, name):
    stems = first_stems(name)
    with ArchiveServer(serve(raw_samples, name)) as server:
        result = fetch.fetch_dataset(name, tmp_path, stems=stems, mirror=server.url, progress=None)
    shared, ours = shared_data / name, tmp_path / name
    assert (result.pairs, result.verified) == (3, True)
    assert tsv_rows(ours / "pairs.tsv") == tsv_rows(shared / "pairs.tsv", 3)
    rows = {row["stem"]: row for row in read_manifest(name)[0]}
    for stem in stems:
        image, mask = decoded(ours / "masks" / f"{stem}.png"), decoded(shared / "masks" / f"{stem}.png")
        if name in ("ecu", "ccp"):  # originals here, downsized in the shared data
            original = raw_samples / RAW_FOLDERS[name] / rows[stem]["archive_image"]
            assert (ours / "images" / rows[stem]["image"]).read_bytes() == original.read_bytes()
            assert image.shape == decoded(original).shape[:2]
            np.testing.assert_array_equal(downsize_mask(image, catalog.CATALOG[name].downsize_max_side), mask)
        else:
            assert (ours / "images" / rows[stem]["image"]).read_bytes() == \
                (shared / "images" / rows[stem]["image"]).read_bytes()
            np.testing.assert_array_equal(image, mask)
        assert image.dtype == np.uint8 and image.ndim == 2 and set(np.unique(image)) <= {0, 255}
    assert "Cite" in (ours / "CITATION.md").read_text() and (ours / "TERMS").is_file()
    if name == "fasseg":
        assert (ours / "labels_orig" / "CLASSES.txt").read_text() == FASSEG_CLASSES_TEXT
        assert FASSEG_CLASSES_TEXT == (shared / "labels_orig" / "CLASSES.txt").read_text()
        for stem in stems:
            np.testing.assert_array_equal(decoded(ours / "labels_orig" / f"{stem}.png"),
                                          decoded(shared / "labels_orig" / f"{stem}.png"))


@pytest.mark.parametrize("name", ["ecu", "ccp"])
def test_downsize_reproduces_the_shared_files_byte_for_byte(raw_samples, shared_data, tmp_path, name):
    with ArchiveServer(serve(raw_samples, name)) as server:
        fetch.fetch_dataset(name, tmp_path, stems=first_stems(name), downsize=True, mirror=server.url, progress=None)
    for stem in first_stems(name):
        assert (tmp_path / name / "images" / f"{stem}.jpg").read_bytes() == \
            (shared_data / name / "images" / f"{stem}.jpg").read_bytes()
        np.testing.assert_array_equal(decoded(tmp_path / name / "masks" / f"{stem}.png"),
                                      decoded(shared_data / name / "masks" / f"{stem}.png"))
    assert len((tmp_path / name / "MANIFEST.sha256").read_text().splitlines()) == 6


def test_a_conversion_that_differs_from_the_manifest_is_refused(raw_samples, tmp_path):
    label = "coco-abdomen/train/annotations/001_skin_001.png"
    blank = io.BytesIO()
    Image.new("L", (227, 227), 255).save(blank, "PNG")
    with ArchiveServer(serve(raw_samples, "abdomen", replace={label: blank.getvalue()})) as server:
        with pytest.raises(DataError, match=r"abdomen/masks/abd_train_001.png: the conversion does not reproduce"):
            fetch.fetch_dataset("abdomen", tmp_path, stems=first_stems("abdomen"), mirror=server.url, progress=None)
    assert nothing_complete(tmp_path, "abdomen")


def test_an_archive_without_a_listed_file_is_refused(raw_samples, tmp_path):
    with ArchiveServer(serve(raw_samples, "sfa")) as server:  # 3 of the 1118 pairs
        with pytest.raises(DataError, match=r"has no abd-skin-segmentation-6aeddac\w+/skin/train/skin_train2019/"
                                            r"4.jpeg \(2230 files missing\)"):
            fetch.fetch_dataset("sfa", tmp_path, mirror=server.url, progress=None)
    assert nothing_complete(tmp_path, "sfa")


# ----------------------------------------------------------------------------- download


def test_a_download_cut_in_the_middle_resumes_with_range(raw_samples, tmp_path):
    files = serve(raw_samples, "abdomen")
    size = len(next(iter(files.values())))
    with ArchiveServer(files, cut_after=size // 2, cuts=1) as server:
        result = fetch.fetch_dataset("abdomen", tmp_path, stems=first_stems("abdomen"), mirror=server.url,
                                     progress=None)
    assert [request[1] for request in server.requests] == [None, f"bytes={size // 2}-"]
    assert (result.pairs, result.verified) == (3, True)
    assert verify_folder(tmp_path / "abdomen").matching == 3


def test_a_server_that_ignores_range_gets_the_whole_file_again(raw_samples, tmp_path):
    with ArchiveServer(serve(raw_samples, "abdomen"), cut_after=500, cuts=1, ignore_range=True) as server:
        result = fetch.fetch_dataset("abdomen", tmp_path, stems=first_stems("abdomen"), mirror=server.url,
                                     progress=None)
    assert [request[1] for request in server.requests] == [None, "bytes=500-"]
    assert (result.pairs, result.verified) == (3, True)


def test_an_interrupted_conversion_leaves_no_folder(raw_samples, tmp_path, monkeypatch):
    calls = []

    def interrupted(*args, **kwargs):
        calls.append(args)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return convert_pair(*args, **kwargs)

    monkeypatch.setattr(fetch, "convert_pair", interrupted)
    with ArchiveServer(serve(raw_samples, "abdomen")) as server:
        with pytest.raises(KeyboardInterrupt):
            fetch.fetch_dataset("abdomen", tmp_path, stems=first_stems("abdomen"), mirror=server.url, progress=None)
    assert len(calls) == 2 and nothing_complete(tmp_path, "abdomen")
    assert (tmp_path / ".downloads" / catalog.CATALOG["abdomen"].archive_name).is_file()  # kept for the rerun


def test_an_interrupted_get_leaves_a_part_file_that_the_next_run_resumes(raw_samples, tmp_path):
    files = serve(raw_samples, "sfa")
    size = len(next(iter(files.values())))
    with ArchiveServer(files, cut_after=1000, cuts=1) as server:
        with pytest.raises(DataError, match="broke off 1 times at 1000 bytes; run the command again"):
            fetch.fetch_dataset("sfa", tmp_path, stems=first_stems("sfa"), mirror=server.url, retries=0,
                                progress=None)
        part = tmp_path / ".downloads" / (catalog.CATALOG["sfa"].archive_name + ".part")
        assert part.stat().st_size == 1000 and nothing_complete(tmp_path, "sfa")
        fetch.fetch_dataset("sfa", tmp_path, stems=first_stems("sfa"), mirror=server.url, progress=None)
    assert server.requests[-1][1] == "bytes=1000-"
    assert not part.exists() and (tmp_path / ".downloads" / catalog.CATALOG["sfa"].archive_name).stat().st_size == size
    assert len(list((tmp_path / "sfa" / "masks").iterdir())) == 3


def test_a_corrupted_archive_is_one_line_exit_2_and_is_discarded(raw_samples, tmp_path, capsys, monkeypatch):
    (path, archive), = serve(raw_samples, "abdomen").items()
    corrupted = bytearray(archive)
    corrupted[len(archive) // 2: len(archive) // 2 + 64] = bytes(64)
    with ArchiveServer({path: bytes(corrupted)}) as server:
        monkeypatch.setenv(fetch.MIRROR_ENV, server.url)
        code = main(["data", "get", "abdomen", "--yes", "--to", str(tmp_path)])
    err = error_line(capsys.readouterr().err)
    assert code == 2
    assert "corrupted or truncated archive" in err and catalog.CATALOG["abdomen"].archive_name in err
    assert nothing_complete(tmp_path, "abdomen") and not list((tmp_path / ".downloads").iterdir())


def test_a_wrong_archive_checksum_is_one_line_exit_2(raw_samples, tmp_path, capsys, monkeypatch):
    pinned = dataclasses.replace(catalog.CATALOG["abdomen"], archive_sha256="0" * 64)
    monkeypatch.setitem(catalog.CATALOG, "abdomen", pinned)
    with ArchiveServer(serve(raw_samples, "abdomen")) as server:
        monkeypatch.setenv(fetch.MIRROR_ENV, server.url)
        code = main(["data", "get", "abdomen", "--yes", "--to", str(tmp_path)])
    err = error_line(capsys.readouterr().err)
    assert code == 2 and f"expected {'0' * 64}" in err
    assert nothing_complete(tmp_path, "abdomen") and not list((tmp_path / ".downloads").iterdir())


@pytest.mark.parametrize("failure", ["refused", "404", "timeout"])
def test_an_unreachable_archive_is_one_line_naming_the_address(tmp_path, capsys, monkeypatch, failure):
    with ArchiveServer({}, hang=failure == "timeout") as server:
        mirror = f"http://127.0.0.1:{closed_port()}" if failure == "refused" else server.url
        monkeypatch.setenv(fetch.MIRROR_ENV, mirror)
        code = main(["data", "get", "hgr_subset", "--yes", "--timeout", "0.5", "--to", str(tmp_path)])
    err = capsys.readouterr().err
    expected = {"refused": "refused", "404": "HTTP 404", "timeout": "timed out"}[failure]
    assert code == 2 and len(err.splitlines()) == 1 and expected in error_line(err)
    assert catalog.CATALOG["hgr_subset"].archive_url(mirror) in err
    assert nothing_complete(tmp_path, "hgr_subset")


# ----------------------------------------------------------------------------- terms and the command line


def test_terms_are_refused_without_a_terminal_before_anything_is_written(tmp_path, capsys, monkeypatch):
    with ArchiveServer({}) as server:
        monkeypatch.setenv(fetch.MIRROR_ENV, server.url)
        code = main(["data", "get", "clinical_ft13", "sfa", "--to", str(tmp_path / "data")])
    captured = capsys.readouterr()
    assert code == 2 and len(captured.err.splitlines()) == 1 and error_line(captured.err)
    assert "clinical_ft13: CC BY-NC-SA 3.0 (NON-COMMERCIAL)" in captured.err and "--yes" in captured.err
    assert server.requests == [] and not (tmp_path / "data").exists()


class _Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("answer", ["y\n", "\n"])
def test_terms_are_asked_on_a_terminal(answer):
    stdout = io.StringIO()
    sources = [catalog.CATALOG["clinical_ft13"]]
    if answer.strip():
        fetch.confirm_terms(sources, stdin=_Terminal(answer), stdout=stdout)
    else:
        with pytest.raises(ValueError, match="terms not accepted: nothing was downloaded"):
            fetch.confirm_terms(sources, stdin=_Terminal(answer), stdout=stdout)
    assert stdout.getvalue().endswith("NON-COMMERCIAL use only, with attribution, and anything derived from them "
                                      "shared alike. Never ship them inside a package or product.\n"
                                      "Accept these terms? [y/N] ")


def test_get_prints_the_terms_then_the_citation_into_the_default_root(raw_samples, tmp_path, capsys, monkeypatch):
    rows, columns = read_manifest("clinical_ft13")
    monkeypatch.setattr(fetch, "read_manifest", lambda name: (rows[:3], columns))
    with ArchiveServer(serve(raw_samples, "clinical_ft13")) as server:
        monkeypatch.setenv(fetch.MIRROR_ENV, server.url)
        monkeypatch.setenv(fetch.ACCEPT_TERMS_ENV, "1")
        monkeypatch.chdir(tmp_path)
        assert main(["data", "get", "clinical_ft13"]) == 0
        out = capsys.readouterr().out
        assert main(["data", "get", "clinical_ft13"]) == 0
    assert out.index("NON-COMMERCIAL use only") < out.index("clinical_ft13: 3 pairs in data/clinical_ft13")
    assert "Please cite:\nM. Groh et al." in out
    assert "already exists, left as it is" in capsys.readouterr().out
    assert "CC BY-NC-SA 3.0" in (tmp_path / "data/clinical_ft13/TERMS").read_text()
    assert not list((tmp_path / "data/.downloads").iterdir())  # the archive is removed once converted


def test_ecu_test_goes_only_to_its_own_folder_marked_evaluation_only(raw_samples, tmp_path, capsys, monkeypatch):
    label = np.zeros((20, 30, 3), np.uint8)
    label[:, :10, 0] = 255  # first channel > 127: skin
    label[:, 10:20, 1] = 255  # other channels: not skin
    photo, mask = io.BytesIO(), io.BytesIO()
    Image.new("RGB", (30, 20), (200, 150, 120)).save(photo, "JPEG")
    Image.fromarray(label).save(mask, "PNG")
    extra = {"dataset/test.txt": b"im09999\n", "dataset/org/features/im09999.jpg": photo.getvalue(),
             "dataset/org/labels/im09999.png": mask.getvalue()}
    with ArchiveServer(serve(raw_samples, "ecu", extra=extra)) as server:
        fetch.fetch_dataset("ecu", tmp_path, stems=first_stems("ecu"), mirror=server.url, progress=None)
        monkeypatch.setenv(fetch.MIRROR_ENV, server.url)
        assert main(["data", "get", "ecu", "--split", "test", "--yes", "--to", str(tmp_path)]) == 0
    assert "EVALUATION ONLY, never train on" in capsys.readouterr().out
    assert sorted(path.name for path in (tmp_path / "ecu" / "images").iterdir()) == \
        [f"{stem}.jpg" for stem in first_stems("ecu")]
    test_folder = tmp_path / "ecu_test"
    assert "EVALUATION ONLY" in (test_folder / "README.md").read_text()
    assert tsv_rows(test_folder / "pairs.tsv")[1] == ["ecu_im09999", "test", "dataset/org/features/im09999.jpg",
                                                      "dataset/org/labels/im09999.png", "30", "20"]
    written = decoded(test_folder / "masks" / "ecu_im09999.png")
    assert (written[:, :10] == 255).all() and (written[:, 10:] == 0).all()


# ----------------------------------------------------------------------------- verify


def test_verify_reports_the_shared_abdomen_as_all_matching(shared_data, capsys):
    assert main(["data", "verify", str(shared_data / "abdomen")]) == 0
    assert capsys.readouterr().out.startswith("abdomen: 617 of 617 pairs match the manifest, 0 missing, 0 differ")


def test_verify_counts_matching_missing_differing_and_extra_pairs(shared_data, tmp_path, capsys):
    for sub in ("images", "masks"):
        (tmp_path / sub).mkdir()
    for stem in ["abd_train_001", "abd_train_002", "abd_train_003"]:
        shutil.copy(shared_data / "abdomen" / "images" / f"{stem}.jpg", tmp_path / "images")
        shutil.copy(shared_data / "abdomen" / "masks" / f"{stem}.png", tmp_path / "masks")
    Image.new("L", (227, 227), 0).save(tmp_path / "masks" / "abd_train_002.png")
    Image.new("RGB", (4, 4)).save(tmp_path / "images" / "mine.png")
    report = verify_folder(tmp_path)
    assert (report.dataset, report.matching, report.missing, report.differing, report.extra) == \
        ("abdomen", 2, 614, 1, 1)
    assert report.problems == [f"{tmp_path}/masks/abd_train_002.png: differs from the manifest"]
    assert main(["data", "verify", str(tmp_path)]) == 1
    assert "2 of 617 pairs match" in capsys.readouterr().out


def test_the_shipped_manifests_are_small_and_complete():
    total = sum(path.stat().st_size for path in MANIFEST_DIR.iterdir())
    assert total < 1_000_000
    for name, source in catalog.CATALOG.items():
        if source.evaluation_only:
            continue
        rows, _ = read_manifest(name)
        assert len(rows) == source.pairs and len({row["stem"] for row in rows}) == source.pairs
    ecu_ids = {row["archive_image"] for row in read_manifest("ecu")[0]}
    with gzip.open(MANIFEST_DIR / "ecu.MANIFEST.sha256.gz", "rt") as handle:
        assert {line.split()[1] for line in handle if "features" in line} == ecu_ids
