"""How close is the `.tflite` export to Keras? Masks and confidence on the shipped sample.

Exports the bundled U-Net (or --weights) as float32 and float16 TFLite files
(`skin_segmentation.export_tflite`), runs both and Keras
(`inference.predict_confidence`) on every photograph of the shipped sample
(700: abdomen, sfa, fasseg, hgr_subset), and writes one row per variant to
`experiments/results/tflite_agreement.csv`: file size, the fraction of pixels
where the masks agree, the images whose masks differ anywhere, and the maximum
and mean absolute difference of the confidence. No timings.

    python experiments/tflite_agreement.py [--weights W] [--out CSV]
"""

import argparse
import tempfile
from pathlib import Path

import pandas as pd

from skin_segmentation.data.readers import load_image, read_datasets
from skin_segmentation.data.sample import sample_datasets
from skin_segmentation.export_tflite import TFLiteSkinModel, compare_with_keras, export_tflite
from skin_segmentation.weights import load_skin_model, resolve_weights

RESULTS = Path(__file__).resolve().parent / "results" / "tflite_agreement.csv"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", default=None)
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args()
    weights = resolve_weights(args.weights)
    model = load_skin_model(weights)
    pretrain, target = sample_datasets()
    images = [load_image(pair.image) for pair in read_datasets([target, *pretrain])]
    keras_bytes = weights.stat().st_size
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for quantize in (None, "float16"):
            path = export_tflite(model, Path(folder) / f"{quantize or 'float32'}.tflite", quantize)
            lite = TFLiteSkinModel(path)
            check = compare_with_keras(lite, model, images)
            rows.append({
                "variant": quantize or "float32",
                "bytes": path.stat().st_size,
                "keras_file_bytes": keras_bytes,
                "images": check["images"],
                "pixels": check["pixels"],
                "mask_agreement": check["mask_agreement"],
                "pixels_differing": check["pixels_differing"],
                "images_differing": check["images_differing"],
                "max_abs_difference": check["max_abs_difference"],
                "mean_abs_difference": check["mean_abs_difference"],
                "weights": weights.name,
            })
            print(rows[-1], flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(args.out, index=False)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
