"""skin-segmentation: Keras/TensorFlow implementation of Codella et al. 2018."""

from pathlib import Path

from setuptools import find_packages, setup

setup(
    name="skin-segmentation",
    version="0.1.0",
    description=(
        "Segmentation of diseased and healthy skin in clinical photographs "
        "(Codella et al. 2018): U-Net, U-Net Large and Dense Residual U-Net in Keras 3."
    ),
    long_description=Path(__file__).with_name("README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.10,<3.13",
    packages=find_packages(include=["skin_segmentation", "skin_segmentation.*"]),
    include_package_data=True,
    package_data={"skin_segmentation": ["data/sample/*.md", "data/sample/*/*/*", "data/sample/*/*.tsv",
                                        "data/manifests/*.gz"]},
    install_requires=[
        # tensorflow-cpu is 0.5 GB smaller than tensorflow; on a GPU machine run
        # `pip install tensorflow[and-cuda]==2.21.0` after this package (README).
        "tensorflow-cpu==2.21.0",
        "keras==3.15.1",
        # numpy 2 by default; the imgaug extra needs numpy<2, which TF 2.21 accepts.
        "numpy>=1.26,<3",
        "h5py>=3.11,<3.15",
        "scikit-image>=0.24,<0.27",
        "scipy>=1.11,<2",  # data.convert reads CCP's .mat labels (scikit-image needs it too)
        "pandas>=2.2,<4",
        "matplotlib>=3.9,<4",
        "pillow>=13.0,<14",  # export.py reproduces Pillow 13's resize order
    ],
    extras_require={
        "dev": [
            "pytest>=8,<10",
            "nbclient>=0.10,<0.12",
            "nbformat>=5.10,<6",
            "ipykernel>=6.29,<8",
        ],
        "notebooks": [
            "nbclient>=0.10,<0.12",
            "nbformat>=5.10,<6",
            "ipykernel>=6.29,<8",
        ],
        "imgaug": ["imgaug==0.4.0", "numpy>=1.26,<2"],
    },
    entry_points={"console_scripts": ["skinseg=skin_segmentation.cli:main"]},
    classifiers=[
        "Programming Language :: Python :: 3",
        "Topic :: Scientific/Engineering :: Image Recognition",
        "Topic :: Scientific/Engineering :: Medical Science Apps.",
    ],
)
