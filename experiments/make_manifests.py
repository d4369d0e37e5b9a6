"""Make the shipped manifests from `../shared/data` (a thin caller of `data.manifest`).

    PYTHONPATH=$PWD nice -n 19 python experiments/make_manifests.py [--shared ../shared/data]

Writes `skin_segmentation/data/manifests/<name>.tsv.gz` for every catalogued dataset
with a folder there, and `<name>.MANIFEST.sha256.gz` beside it for those (ECU, CCP)
whose folder has a `MANIFEST.sha256` of the originals.
"""

import argparse
import gzip
from pathlib import Path

from skin_segmentation.data.catalog import CATALOG
from skin_segmentation.data.manifest import MANIFEST_DIR, make_manifest, manifest_path, write_manifest


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", default=Path(__file__).resolve().parents[2] / "shared" / "data", type=Path)
    args = parser.parse_args()
    MANIFEST_DIR.mkdir(exist_ok=True)
    for name, source in CATALOG.items():
        folder = args.shared / source.folder
        if not (folder / "pairs.tsv").is_file():
            print(f"{name}: no {folder}/pairs.tsv, skipped")
            continue
        rows, columns = make_manifest(folder, name)
        write_manifest(rows, columns, manifest_path(name))
        originals = folder / "MANIFEST.sha256"
        if originals.is_file():
            (MANIFEST_DIR / f"{name}.MANIFEST.sha256.gz").write_bytes(gzip.compress(originals.read_bytes(), mtime=0))
        print(f"{name}: {len(rows)} pairs -> {manifest_path(name)} ({manifest_path(name).stat().st_size} bytes)")


if __name__ == "__main__":
    main()
