"""Logs: with output that is not a terminal, training writes one plain line per epoch.

pytest's captured stdout and stderr are not terminals, as a log file is not
(`skinseg train ... > train.log 2>&1`).
"""

import re

from skin_segmentation.cli import main
from skin_segmentation.data.sample import sample_datasets

POOL, _ = sample_datasets()
EPOCH_LINE = re.compile(r"^Epoch (\d+)/2 - \d+\.\ds - loss: \d\.\d{4} - dice: \d\.\d{4} - "
                        r"jaccard: \d\.\d{4} - val_loss: \d\.\d{4} - val_dice: \d\.\d{4} - "
                        r"val_jaccard: \d\.\d{4}$")


def _no_terminal_codes(text):
    return "\x1b" not in text and "\r" not in text and "\b" not in text


def test_training_into_a_log_writes_one_plain_line_per_epoch(tmp_path, capsys):
    assert main(["train", "--model", "unet", "--data", ",".join(map(str, POOL[:2])),
                 "--out", str(tmp_path / "run"), "--profile", "tiny"]) == 0
    captured = capsys.readouterr()
    assert _no_terminal_codes(captured.out) and _no_terminal_codes(captured.err), captured
    lines = captured.out.splitlines()
    epochs = [EPOCH_LINE.match(line) for line in lines if line.startswith("Epoch")]
    assert [int(match.group(1)) for match in epochs if match] == [1, 2], lines
    assert len(epochs) == 2


def test_a_histograms_progress_is_one_plain_line_in_a_log(tmp_path, capsys):
    assert main(["train", "--model", "histogram", "--data", str(POOL[0]),
                 "--out", str(tmp_path / "hist"), "--profile", "tiny"]) == 0
    captured = capsys.readouterr()
    assert _no_terminal_codes(captured.out) and _no_terminal_codes(captured.err), captured
    assert len([line for line in captured.err.splitlines() if "/" in line and "image" in line]) == 1
