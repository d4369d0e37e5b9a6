"""Fuzz: broken and unusual image files through the readers and `skinseg predict`.

A few hundred seeded files (`fuzz_files.make_cases`: empty, truncated at random
points, wrong magic, flipped bytes, headers claiming 100,000 x 100,000 pixels,
1x1, CMYK, 16-bit, palette with transparency, other bytes under an image
extension). Each must end in either a converted image or a `DataError`: one
line that names the file; never another exception, a hang (a watchdog turns
one into a failure) or a memory blow-up (the process's peak memory may not
grow by more than MAX_PEAK_GROWTH_MB). Most of it calls the library in
process; a few files go through the command line in a subprocess.
"""

import contextlib
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from fuzz_files import make_cases

from skin_segmentation.data.readers import DataError, decode_mask, load_image
from skin_segmentation.inference import predict_files
from skin_segmentation.weights import load_skin_model

REPO_ROOT = Path(__file__).resolve().parents[1]
SEED = 20261130
WATCHDOG_SECONDS = 20  # a hang, not a speed limit: each file takes milliseconds
MAX_PEAK_GROWTH_MB = 1024


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    return make_cases(tmp_path_factory.mktemp("fuzz"), seed=SEED)


@contextlib.contextmanager
def watchdog(name):
    def hung(signum, frame):
        raise TimeoutError(f"{name}: still decoding after {WATCHDOG_SECONDS} s")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(WATCHDOG_SECONDS)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _outcome(case, read):
    """`"converted"`, `"refused"`, or a description of what went wrong."""
    try:
        with watchdog(case.name):
            result = read(case.path)
    except DataError as error:
        message = str(error)
        if "\n" in message or not message.startswith(str(case.path)):
            return f"a DataError that is not one line naming the file: {message!r}"
        return "refused"
    except Exception as error:  # noqa: BLE001  (any other exception is the bug we look for)
        return f"{type(error).__name__}: {error}"
    return result


def _check(cases, read, is_valid, expectations=True):
    """Problems (a list of lines) and counts of each outcome of `read` on every case."""
    problems, counts = [], {"converted": 0, "refused": 0}
    for case in cases:
        result = _outcome(case, read)
        if isinstance(result, str) and result != "refused":
            problems.append(f"{case.name}: {result}")
            continue
        outcome = "refused" if isinstance(result, str) else "converted"
        counts[outcome] += 1
        if outcome == "converted" and not is_valid(result):
            problems.append(f"{case.name}: converted to an invalid array {getattr(result, 'shape', result)}")
        expected = {"refuse": "refused", "convert": "converted"}.get(case.expect, outcome)
        if expectations and outcome != expected:
            problems.append(f"{case.name}: {outcome}, expected to {case.expect}")
    return problems, counts


def test_the_fuzz_set_is_large_and_mixed(cases):
    expectations = [case.expect for case in cases]
    assert len(cases) >= 250
    assert expectations.count("convert") >= 10 and expectations.count("refuse") >= 60


def test_load_image_converts_or_refuses_every_file(cases):
    peak_before = _peak_mb()

    def is_photo(array):
        return array.dtype == np.uint8 and array.ndim == 3 and array.shape[2] == 3 and min(array.shape) >= 1

    problems, counts = _check(cases, load_image, is_photo)
    assert not problems, "\n".join(problems)
    assert counts["refused"] >= 60 and counts["converted"] >= 15, counts
    assert _peak_mb() - peak_before < MAX_PEAK_GROWTH_MB


def test_decode_mask_converts_or_refuses_every_file(cases):
    def is_mask(array):
        return array.dtype == np.uint8 and array.ndim == 2 and set(np.unique(array)) <= {0, 1}

    # A photograph that decodes is seldom a usable mask (colour, grey levels):
    # a refusal of those is right, so only the refusals are expected here.
    problems, counts = _check(cases, decode_mask, is_mask, expectations=False)
    assert not problems, "\n".join(problems)
    refused = {case.name for case in cases if isinstance(_outcome(case, decode_mask), str)}
    assert {case.name for case in cases if case.expect == "refuse"} <= refused


def test_huge_headers_are_refused_before_decoding_with_the_pixel_limit(cases):
    from PIL import Image

    huge = [case for case in cases if case.name.startswith("huge_")]
    assert len(huge) == 5
    peak_before = _peak_mb()
    for case in huge:
        with pytest.raises(DataError, match=rf"too large to decode: its header claims [\d,]+ pixels, "
                                            rf"more than the limit of {Image.MAX_IMAGE_PIXELS:,}"):
            load_image(case.path)
    assert _peak_mb() - peak_before < 100  # nothing near 100,000 x 100,000 x 3 bytes was allocated


def test_predict_files_writes_a_mask_or_refuses_every_file(cases, red_weights, tmp_path):
    from PIL import Image

    model = load_skin_model(red_weights)

    def predict_one(path):
        written = predict_files(model, [path], tmp_path / "out")[0]
        return np.asarray(Image.open(written["mask"]))

    def is_mask_png(array):
        return array.dtype == np.uint8 and array.ndim == 2 and set(np.unique(array)) <= {0, 255}

    problems, counts = _check(cases, predict_one, is_mask_png)
    assert not problems, "\n".join(problems)
    assert counts["converted"] >= 15


def _run_cli(*argv):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run(
        [sys.executable, "-m", "skin_segmentation.cli", *map(str, argv)],
        capture_output=True, text=True, check=False, env=env, timeout=600,
    )


def test_predict_over_the_whole_set_writes_the_readable_and_lists_the_rest(cases, red_weights, tmp_path):
    from skin_segmentation.problems import ProblemLog

    log = ProblemLog("skinseg predict", echo=False)
    written = predict_files(load_skin_model(red_weights), [case.path for case in cases],
                            tmp_path / "out", on_error=log.add)
    readable = [case for case in cases if not isinstance(_outcome(case, load_image), str)]
    assert [row["image"] for row in written] == [str(case.path) for case in readable]
    assert len(written) + len(log) == len(cases)
    assert all("\n" not in str(problem) for problem in log.problems)


def test_the_command_line_reports_a_broken_file_in_one_line(cases, red_weights, tmp_path):
    truncated = next(case.path for case in cases if case.name.startswith("jpeg_truncated_")
                     and case.path.stat().st_size < 300)
    good = next(case.path for case in cases if case.name == "cmyk_jpeg")
    result = _run_cli("predict", good, truncated, "--out", tmp_path / "out", "--weights", red_weights)
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("skinseg predict:")]
    assert len(lines) == 1 and lines[0].startswith(f"skinseg predict: skipped {truncated}: "), result.stderr
    assert (tmp_path / "out" / f"{good.stem}_mask.png").is_file()
