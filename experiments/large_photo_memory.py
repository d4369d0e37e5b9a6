"""Peak memory of `skinseg predict` on one 8000 x 8000 photograph (issue 15).

    python experiments/large_photo_memory.py [--side 8000] [--weights W]

Writes a synthetic JPEG photograph (smooth colour fields with noise) of the
given side into a temporary folder, then runs `skinseg predict` on it, with the
bundled U-Net unless `--weights` names another, in a fresh Python process, and
a second time on a 512 x 512 copy: the second is what TensorFlow, the network
and a prediction cost whatever the photograph. Prints one JSON line per run
(peak resident memory from `resource.getrusage`, the Python-allocated peak from
`tracemalloc`, seconds) and the machine (`lscpu` model name, load average).
Results: experiments/large_photos.md.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

MEASURE = """
import json, resource, sys, time, tracemalloc
import skin_segmentation.inference, keras  # imported before tracemalloc starts: it then
tracemalloc.start()                        # traces the prediction (NumPy's arrays too)
from skin_segmentation.cli import main
started = time.perf_counter()
code = main(sys.argv[1:])
seconds = time.perf_counter() - started
print(json.dumps({"exit_code": code, "seconds": round(seconds, 1),
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                  "tracemalloc_peak_mb": round(tracemalloc.get_traced_memory()[1] / 2**20)}))
"""


def synthetic_photo(path, side, seed=0):
    """A JPEG of `side` x `side`: four colour fields, a gradient and noise, in bands."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    photo = Image.new("RGB", (side, side))
    band = 1000
    for top in range(0, side, band):
        rows = np.arange(top, min(top + band, side))[:, None]
        columns = np.arange(side)[None, :]
        red = 120 + 80 * (columns < side // 2) + rows * 40 // side
        green = 90 + 60 * (rows < side // 2) + columns * 30 // side
        blue = 70 + 50 * ((rows + columns) % 997 < 500)
        pixels = np.stack(np.broadcast_arrays(red, green, blue), axis=-1)
        pixels = pixels + rng.integers(-12, 13, pixels.shape)
        strip = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
        photo.paste(strip, (0, top))
    photo.save(path, quality=90)
    return path


def measure(photo, out_dir, weights=None):
    """Run `skinseg predict photo --out out_dir` in a fresh process; its JSON figures."""
    argv = ["predict", str(photo), "--out", str(out_dir)]
    argv += ["--weights", weights] if weights else []
    result = subprocess.run([sys.executable, "-c", MEASURE, *argv], capture_output=True, text=True,
                            check=False, env=dict(os.environ, PYTHONPATH=os.pathsep.join(
                                [str(Path(__file__).resolve().parents[1]),
                                 os.environ.get("PYTHONPATH", "")])))
    if result.returncode != 0:
        sys.exit(f"predict failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def machine():
    """The CPU model (`lscpu`) and the 1-minute load average."""
    model = next((line.split(":", 1)[1].strip() for line in subprocess.run(
        ["lscpu"], capture_output=True, text=True, check=False).stdout.splitlines()
        if line.startswith("Model name")), "unknown")
    return {"cpu": model, "cpus": os.cpu_count(), "load_1min": round(os.getloadavg()[0], 2)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=8000)
    parser.add_argument("--weights", default=None, help="a .keras file (default: bundled U-Net)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        large = synthetic_photo(folder / f"photo_{args.side}.jpg", args.side)
        small = synthetic_photo(folder / "photo_512.jpg", 512)
        print(json.dumps({"machine_before": machine()}))
        for photo, side in ((large, args.side), (small, 512)):
            figures = measure(photo, folder / f"masks_{side}", args.weights)
            print(json.dumps({"photo": f"{side}x{side}", **figures, **machine()}))


if __name__ == "__main__":
    main()
