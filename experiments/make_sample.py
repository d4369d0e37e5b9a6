"""Build the shipped sample, skin_segmentation/data/sample/, from ../shared/data.

Draws with a fixed seed 400 abdominal pairs (the target: enough for the paper's
100 training / 300 evaluation protocol) and 100 pairs each of SFA, FASSEG and
HGR (the pre-training pool), downsizes them (longest side 128 for the target,
160 for the pool; image Lanczos as JPEG quality 90, mask area average then
threshold as PNG 0/255), and writes the plain folder layout with each source's
pairs.tsv rows. ATTRIBUTION.md is kept as written by hand.

    python experiments/make_sample.py [--data ../shared/data] [--out skin_segmentation/data/sample]
"""

import argparse
import csv
import shutil
from pathlib import Path

import numpy as np
from PIL import Image

from skin_segmentation.data.readers import load_pair, read_folder

REPO = Path(__file__).resolve().parents[1]
SEED = 2018
PLAN = {  # source: (pairs, longest side)
    "abdomen": (400, 128),
    "sfa": (100, 160),
    "fasseg": (100, 160),
    "hgr_subset": (100, 160),
}


def downsized_size(width, height, longest):
    factor = longest / max(width, height)
    if factor >= 1:
        return width, height
    return max(1, round(width * factor)), max(1, round(height * factor))


def write_source(source_dir, out_dir, count, longest, rng):
    pairs = read_folder(source_dir)
    chosen = sorted(rng.choice(len(pairs), size=count, replace=False))
    chosen_stems = {pairs[i].stem for i in chosen}
    if out_dir.exists():
        shutil.rmtree(out_dir)
    (out_dir / "images").mkdir(parents=True)
    (out_dir / "masks").mkdir()
    for index in chosen:
        pair = pairs[index]
        image, mask = load_pair(pair)
        size = downsized_size(image.shape[1], image.shape[0], longest)
        Image.fromarray(image).resize(size, Image.LANCZOS).save(
            out_dir / "images" / f"{pair.stem}.jpg", quality=90, optimize=True
        )
        area = np.asarray(Image.fromarray(mask.astype(np.float32)).resize(size, Image.BOX))
        Image.fromarray(((area >= 0.5) * 255).astype(np.uint8)).save(
            out_dir / "masks" / f"{pair.stem}.png", optimize=True
        )
    with open(source_dir / "pairs.tsv", newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle, delimiter="\t"))
    stem_column = rows[0].index("stem")
    with open(out_dir / "pairs.tsv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(rows[0])
        writer.writerows(row for row in rows[1:] if row and row[stem_column] in chosen_stems)
    return len(chosen)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=REPO / "skin_segmentation" / "data" / "sample")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(SEED)
    for source, (count, longest) in PLAN.items():
        written = write_source(args.data / source, args.out / source, count, longest, rng)
        print(f"{source}: {written} pairs, longest side {longest}")
    total = sum(path.stat().st_size for path in args.out.rglob("*") if path.is_file())
    print(f"sample: {total / 1e6:.2f} MB in {args.out}")


if __name__ == "__main__":
    main()
