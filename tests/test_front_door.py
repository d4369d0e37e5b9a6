"""A fast front door: `skinseg --help` and argument errors answer without TensorFlow.

Each check runs in a fresh interpreter, since this test process has TensorFlow
loaded already. What is asserted is behaviour (which modules were imported), not
time; the time is measured in experiments/front_door.md.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]

RUN_CLI = """
import json, sys
from skin_segmentation.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exit:
    code = exit.code
print(json.dumps({"code": code, "loaded": sorted(
    name for name in ("tensorflow", "keras") if name in sys.modules)}))
"""


def _python(code, *argv, **env):
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]), **env)
    return subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True,
                          check=False, env=environment, timeout=600)


def _last_json(result):
    assert result.stdout.strip(), result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("argv, code", [
    (["--help"], 0),
    (["train", "--help"], 0),
    (["predict", "--help"], 0),
    (["train", "--data", "d", "--out", "r", "--no-such-flag"], 2),
    (["evaluate"], 2),
    (["no-such-command"], 2),
])
def test_help_and_argument_errors_do_not_import_tensorflow(argv, code):
    result = _python(RUN_CLI, *argv)
    assert _last_json(result) == {"code": code, "loaded": []}
    if code == 2:
        assert "error:" in result.stderr and "Traceback" not in result.stderr


def test_building_the_parser_imports_no_tensorflow():
    result = _python(
        "import json, sys\n"
        "from skin_segmentation.cli import build_parser\n"
        "commands = build_parser()._subparsers._group_actions[0].choices\n"
        "print(json.dumps([sorted(commands), 'tensorflow' in sys.modules, 'keras' in sys.modules]))"
    )
    commands, tensorflow, keras = _last_json(result)
    assert {"train", "predict", "evaluate", "export", "replicate"} <= set(commands)
    assert (tensorflow, keras) == (False, False)


@pytest.mark.parametrize("order", ["keras first", "package first"])
def test_the_custom_objects_are_registered_whichever_is_imported_first(order):
    imports = ("import keras\nimport skin_segmentation\n" if order == "keras first"
               else "import skin_segmentation\nimport keras\n")
    result = _python(
        imports + "import json\n"
        "names = ['skin_segmentation>JaccardDistance', 'skin_segmentation>JaccardIndex',\n"
        "         'skin_segmentation>RescaledTanh']\n"
        "print(json.dumps([keras.saving.get_registered_object(n) is not None for n in names]))"
    )
    assert _last_json(result) == [True, True, True]


def test_the_package_names_load_on_first_use():
    result = _python(
        "import json, sys\n"
        "import skin_segmentation\n"
        "before = 'tensorflow' in sys.modules\n"
        "model = skin_segmentation.build_model('unet', input_shape=(32, 32, 3), filters=(4, 8))\n"
        "print(json.dumps([before, model.output_shape, skin_segmentation.JaccardIndex.__name__]))"
    )
    assert _last_json(result) == [False, [None, 32, 32, 1], "JaccardIndex"]
