"""Parameter counts of the readings of section II-B, built with the real builders.

docs/architecture.md weighs each reading of the paper's architecture sentences
against Table I's counts (U-Net 7.5M, U-Net Large 150M, Dense Residual U-Net
149.9M); this prints the counts it cites, each network built at 128x128x3 (no
training; about two minutes on a 2-core CPU, a few GB of memory).

    python experiments/architecture_arithmetic.py
"""

import keras

from skin_segmentation.models import build_model

WIDE = (44, 88, 176, 352, 704)  # the Dense Residual U-Net's filters
NARROW = (32, 64, 128, 256, 512)  # the U-Net's filters

# (what it tests, preset, builder arguments replacing the preset's, paper's count)
READINGS = [
    ("U-Net Large, literally 3 levels of 45/90/180", "unet_large", {"filters": (45, 90, 180)}, 150e6),
    ("U-Net Large, 4 levels 45-360", "unet_large", {"filters": (45, 90, 180, 360)}, 150e6),
    ("U-Net Large, 5 levels 45-720 (preset)", "unet_large", {}, 150e6),
    ("U-Net Large, 6 levels 45-1440", "unet_large", {"filters": (45, 90, 180, 360, 720, 1440)}, 150e6),
    ("U-Net, 32-512, no FC (preset)", "unet", {}, 7.5e6),
    ("U-Net with the DRU's filters, no FC", "unet", {"filters": WIDE}, 7.5e6),
    ("U-Net with the DRU's filters and FC (literal)", "unet", {"filters": WIDE, "fc_units": 1434}, 7.5e6),
    ("U-Net, 30-480 with the widest FC that fits", "unet", {"filters": (30, 60, 120, 240, 480), "fc_units": 16}, 7.5e6),
    ("DRU without FC, 32-512", "dense_residual_unet", {"filters": NARROW, "fc_units": None}, None),
    ("DRU without FC, 44-704", "dense_residual_unet", {"fc_units": None}, None),
    ("DRU with the U-Net's filters, FC 1449", "dense_residual_unet", {"filters": NARROW, "fc_units": 1449}, 149.9e6),
    ("DRU with the U-Net's filters, FC 2100", "dense_residual_unet", {"filters": NARROW, "fc_units": 2100}, 149.9e6),
    ("DRU 44-704, FC 1450 (before)", "dense_residual_unet", {"fc_units": 1450}, 149.9e6),
    ("DRU 44-704, FC 1434 (preset)", "dense_residual_unet", {}, 149.9e6),
]


def main():
    print("| reading | parameters | paper | difference |")
    print("|---|---:|---:|---:|")
    for title, preset, overrides, paper in READINGS:
        count = build_model(preset, input_shape=(128, 128, 3), **overrides).count_params()
        keras.backend.clear_session()
        difference = f"{count / paper - 1:+.1%}" if paper else ""
        paper_text = f"{paper / 1e6:.1f}M" if paper else ""
        print(f"| {title} | {count:,} | {paper_text} | {difference} |", flush=True)


if __name__ == "__main__":
    main()
