"""Seeded generators of broken and unusual image files, for the fuzz tests.

`make_cases(folder, seed)` writes a few hundred files and returns one `Case`
per file: what it is, and whether a reader must refuse it (`"refuse"`), must
convert it (`"convert"`), or may do either (`"either"`: a truncation that
happens to cut only trailing bytes still decodes).
"""

import dataclasses
import io
import struct
import zlib

import numpy as np
from PIL import Image

EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".ppm", ".tif", ".tiff")
FORMATS = {"JPEG": ".jpg", "PNG": ".png", "BMP": ".bmp", "TIFF": ".tif", "PPM": ".ppm"}
HUGE_SIDE = 100_000


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    path: object
    expect: str  # "refuse", "convert" or "either"


def _encode(image, image_format, **options):
    buffer = io.BytesIO()
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


def _png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def huge_png(width, height):
    """A PNG whose (valid, CRC-checked) header claims `width x height` RGB pixels."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header)
            + _png_chunk(b"IDAT", zlib.compress(b"\0" * 64)) + _png_chunk(b"IEND", b""))


def huge_bmp(width, height):
    """A 24-bit BMP whose header claims `width x height` pixels, with 64 bytes of data."""
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, 0, 2835, 2835, 0, 0)
    data = b"\0" * 64
    return b"BM" + struct.pack("<IHHI", 14 + len(info) + len(data), 0, 0, 14 + len(info)) + info + data


def huge_jpeg(width, height):
    """A valid small JPEG whose frame header (SOF0) is rewritten to claim `width x height`."""
    data = bytearray(_encode(Image.new("RGB", (16, 16), (200, 150, 120)), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def _valid_images(rng):
    """A few small RGB photographs of random sizes."""
    images = []
    for _ in range(6):
        height, width = (int(side) for side in rng.integers(8, 48, 2))
        images.append(Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8)))
    return images


def _unusual_but_valid(rng):
    """`(name, bytes, extension)` of images a reader must convert."""
    noise = rng.integers(0, 256, (12, 9, 3), dtype=np.uint8)
    palette = Image.fromarray(noise).convert("P", palette=Image.ADAPTIVE, colors=16)
    grey16 = Image.fromarray(rng.integers(0, 65536, (10, 7), dtype=np.uint16))
    rotated = Image.fromarray(noise)
    exif = rotated.getexif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees
    yield "1x1_rgb", _encode(Image.new("RGB", (1, 1), (10, 20, 30)), "PNG"), ".png"
    yield "1x1_grey_jpeg", _encode(Image.new("L", (1, 1), 128), "JPEG"), ".jpg"
    yield "1x3000_strip", _encode(Image.new("RGB", (3000, 1), (90, 60, 50)), "PNG"), ".png"
    yield "cmyk_jpeg", _encode(Image.fromarray(noise).convert("CMYK"), "JPEG"), ".jpg"
    yield "cmyk_tiff", _encode(Image.fromarray(noise).convert("CMYK"), "TIFF"), ".tif"
    yield "grey16_png", _encode(grey16, "PNG"), ".png"
    yield "grey16_tiff", _encode(grey16, "TIFF"), ".tiff"
    yield "palette_transparent_png", _encode(palette, "PNG", transparency=0), ".png"
    yield "palette_gif_named_jpg", _encode(palette, "GIF", transparency=3), ".jpg"
    yield "rgba_png", _encode(Image.fromarray(noise).convert("RGBA"), "PNG"), ".png"
    yield "la_png", _encode(Image.fromarray(noise).convert("LA"), "PNG"), ".png"
    yield "one_bit_bmp", _encode(Image.fromarray(noise).convert("1"), "BMP"), ".bmp"
    yield "exif_rotated_jpeg", _encode(rotated, "JPEG", exif=exif), ".jpg"
    yield "png_named_jpg", _encode(Image.fromarray(noise), "PNG"), ".jpg"
    yield "webp_named_png", _encode(Image.fromarray(noise), "WEBP"), ".png"


def _refused(rng):
    """`(name, bytes, extension)` of files a reader must refuse with a `DataError`."""
    for extension in EXTENSIONS:
        yield f"empty{extension.replace('.', '_')}", b"", extension
    yield "huge_png", huge_png(HUGE_SIDE, HUGE_SIDE), ".png"
    yield "huge_png_between_limits", huge_png(10_000, 10_000), ".png"  # Pillow only warns
    yield "huge_bmp", huge_bmp(HUGE_SIDE, HUGE_SIDE), ".bmp"
    yield "huge_jpeg", huge_jpeg(65_000, 65_000), ".jpg"
    yield "huge_ppm", f"P6 {HUGE_SIDE} {HUGE_SIDE} 255\n".encode() + b"\0" * 64, ".ppm"
    yield "text_named_jpg", b"this is not an image\n" * 20, ".jpg"
    yield "html_named_png", b"<!doctype html><html><body>404</body></html>", ".png"
    yield "pdf_named_tif", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", ".tif"
    yield "float_tiff", _encode(Image.fromarray(rng.random((6, 5)).astype(np.float32)), "TIFF"), ".tif"
    yield "int32_tiff_over_16_bits", _encode(Image.fromarray(
        np.full((6, 5), 1_000_000, np.int32)), "TIFF"), ".tif"
    for index in range(20):
        size = int(rng.integers(1, 4096))
        yield f"random_bytes_{index}", rng.integers(0, 256, size, dtype=np.uint8).tobytes(), EXTENSIONS[index % 7]


def make_cases(folder, seed=0, truncations=24, corruptions=8):
    """Write the fuzz files into `folder`; return their `Case`s, names unique."""
    rng = np.random.default_rng(seed)
    cases = []

    def add(name, data, extension, expect):
        path = folder / f"{name}{extension}"
        path.write_bytes(data)
        cases.append(Case(name, path, expect))

    for name, data, extension in _unusual_but_valid(rng):
        add(name, data, extension, "convert")
    for name, data, extension in _refused(rng):
        add(name, data, extension, "refuse")
    images = _valid_images(rng)
    for image_format, extension in FORMATS.items():
        for index in range(truncations):
            data = _encode(images[index % len(images)], image_format)
            cut = int(rng.integers(1, len(data)))
            add(f"{image_format.lower()}_truncated_{index}_at_{cut}", data[:cut], extension, "either")
        for index in range(corruptions):
            data = bytearray(_encode(images[index % len(images)], image_format))
            data[:2] = bytes(rng.integers(0, 32, 2, dtype=np.uint8))  # no format starts so
            add(f"{image_format.lower()}_wrong_magic_{index}", bytes(data), extension, "refuse")
            data = bytearray(_encode(images[index % len(images)], image_format))
            for position in rng.integers(0, len(data), int(rng.integers(1, 24))):
                data[position] = int(rng.integers(0, 256))
            add(f"{image_format.lower()}_bytes_flipped_{index}", bytes(data), extension, "either")
    return cases
