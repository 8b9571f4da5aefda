"""Image checks of `collect images` on real photos (Open Images, CC BY 2.0) and hostile bytes."""

from __future__ import annotations

import csv
import hashlib
import io
import struct
import zlib
from pathlib import Path

import pytest

pytest.importorskip("PIL", reason="collect images needs the `collect` extra (pillow)")
pytest.importorskip("imagehash", reason="collect images needs the `collect` extra (imagehash)")

from datafiles import shared  # noqa: E402
from PIL import Image  # noqa: E402

from datasteward.collect.imaging import (  # noqa: E402
    ImageOptions,
    ImageRejected,
    process_image,
    target_size,
)


def photos() -> list[Path]:
    """The 18 photos (their credits.csv is in tests/data; the JPEGs are in the shared data)."""
    credits = shared("image-text", "openimages-cc-by-photos", "credits.csv")
    with credits.open(newline="", encoding="utf-8") as fh:
        ids = [row["ImageID"] for row in csv.DictReader(fh)]
    return [shared("image-text", "openimages-cc-by-photos", f"{i}.jpg") for i in ids]


def decoded(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_bomb(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height RGB pixels (black), a few kB on the wire: its
    zlib stream holds the first rows (all of them for a small image)."""
    row = b"\0" * (1 + 3 * width)
    comp = zlib.compressobj(9)
    idat = b"".join(comp.compress(row) for _ in range(min(height, 256))) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def test_real_photos_every_resize_mode() -> None:
    files = photos()
    assert len(files) == 18
    for f in files:
        data = f.read_bytes()
        with Image.open(f) as orig:
            ow, oh = orig.size
        for mode in ("border", "center_crop", "keep_ratio", "keep_ratio_largest", "no"):
            rec = process_image(data, ImageOptions(image_size=128, resize_mode=mode))
            assert rec.sha256 == hashlib.sha256(data).hexdigest()
            assert (rec.original_width, rec.original_height) == (ow, oh)
            assert rec.original_format == "JPEG"
            assert rec.original_bytes == len(data)
            assert len(rec.phash) == 16 and int(rec.phash, 16) >= 0
            img = decoded(rec.data)
            assert img.format == "JPEG"
            assert (img.width, img.height) == (rec.width, rec.height)
            assert not img.getexif() and "xmp" not in img.info and "icc_profile" not in img.info
            if mode in ("border", "center_crop"):
                assert img.size == (128, 128)
            elif mode == "keep_ratio":
                assert min(img.size) == 128
                assert abs(img.width / img.height - ow / oh) < 0.02
            elif mode == "keep_ratio_largest":
                assert max(img.size) == 128
            else:
                assert img.size == (ow, oh)


def test_border_pads_with_black_and_keeps_the_picture() -> None:
    data = photos()[0].read_bytes()
    with Image.open(io.BytesIO(data)) as orig:
        w, h = orig.size
    rec = process_image(data, ImageOptions(image_size=200, resize_mode="border"))
    img = decoded(rec.data).convert("RGB")
    tw, th = target_size(w, h, ImageOptions(image_size=200))
    assert max(tw, th) == 200 and min(tw, th) < 200
    # the padding (outside the scaled picture) is black, allowing for JPEG ringing
    corner = img.getpixel((0, 0)) if th < 200 else img.getpixel((0, 0))
    assert isinstance(corner, tuple) and max(corner) < 24


def test_same_photo_same_phash_near_duplicate_close() -> None:
    data = photos()[1].read_bytes()
    a = process_image(data, ImageOptions())
    buf = io.BytesIO()
    with Image.open(io.BytesIO(data)) as im:
        im.resize((im.width // 2, im.height // 2)).save(buf, "JPEG", quality=60)
    b = process_image(buf.getvalue(), ImageOptions())
    other = process_image(photos()[5].read_bytes(), ImageOptions())
    dist = bin(int(a.phash, 16) ^ int(b.phash, 16)).count("1")
    far = bin(int(a.phash, 16) ^ int(other.phash, 16)).count("1")
    assert a.sha256 != b.sha256
    assert dist <= 10 < far


def test_only_if_bigger_keeps_small_images() -> None:
    data = photos()[2].read_bytes()
    rec = process_image(
        data, ImageOptions(image_size=4096, resize_mode="keep_ratio", resize_only_if_bigger=True)
    )
    assert (rec.width, rec.height) == (rec.original_width, rec.original_height)
    bigger = process_image(data, ImageOptions(image_size=1024, resize_mode="keep_ratio"))
    assert min(bigger.width, bigger.height) == 1024


def test_licence_and_author_fields_kept_but_stripped_from_the_image() -> None:
    data = photos()[3].read_bytes()
    with Image.open(io.BytesIO(data)) as im:
        exif = im.getexif()
        exif[0x013B] = "Jane Photographer"
        exif[0x8298] = "CC BY 2.0 Jane Photographer"
        exif[0x0112] = 6  # rotate 90° clockwise to display
        xmp = (
            '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/'
            '22-rdf-syntax-ns#"><rdf:Description xmlns:xmpRights="http://ns.adobe.com/xap/1.0/'
            'rights/" xmlns:cc="http://creativecommons.org/ns#" xmpRights:WebStatement='
            '"https://example.org/licence" cc:license="https://creativecommons.org/licenses/by/'
            '2.0/"><dc:rights xmlns:dc="http://purl.org/dc/elements/1.1/"><rdf:Alt><rdf:li '
            'xml:lang="x-default">Some rights reserved</rdf:li></rdf:Alt></dc:rights>'
            "</rdf:Description></rdf:RDF></x:xmpmeta>"
        )
        buf = io.BytesIO()
        im.save(buf, "JPEG", exif=exif, xmp=xmp.encode(), quality=90)
        w, h = im.size
    rec = process_image(buf.getvalue(), ImageOptions(resize_mode="no"))
    assert rec.rights == {
        "exif_artist": "Jane Photographer",
        "exif_copyright": "CC BY 2.0 Jane Photographer",
        "xmp_dc_rights": "Some rights reserved",
        "xmp_xmpRights_WebStatement": "https://example.org/licence",
        "xmp_cc_license": "https://creativecommons.org/licenses/by/2.0/",
    }
    stored = decoded(rec.data)
    assert not stored.getexif()
    assert "xmp" not in stored.info and b"Jane" not in rec.data
    # the orientation was applied to the pixels: the stored image stands upright
    assert (stored.width, stored.height) == (h, w)
    assert (rec.original_width, rec.original_height) == (h, w)


@pytest.mark.parametrize(("cut", "reason"), [(0.5, "corrupt"), (0.02, "corrupt")])
def test_truncated_jpeg_is_corrupt(cut: float, reason: str) -> None:
    data = photos()[4].read_bytes()
    with pytest.raises(ImageRejected) as err:
        process_image(data[: int(len(data) * cut)], ImageOptions())
    assert err.value.reason == reason


def test_non_image_bodies() -> None:
    for body in (b"<!doctype html><html><body>not found</body></html>", b"", b"GIF89a\0\0"):
        with pytest.raises(ImageRejected) as err:
            process_image(body, ImageOptions())
        assert err.value.reason in ("not_an_image", "corrupt"), body


def test_png_bomb_refused_from_its_header() -> None:
    bomb = png_bomb(30_000, 30_000)  # 900 million pixels, 2.7 GB decoded
    assert len(bomb) < 100_000
    with pytest.raises(ImageRejected) as err:
        process_image(bomb, ImageOptions())
    assert err.value.reason == "image_too_large"
    assert "900000000 pixels" in err.value.detail.replace(",", "")
    # under a lower bound, a modest image is refused the same way; above it, it is read
    small = png_bomb(300, 200)
    with pytest.raises(ImageRejected) as err:
        process_image(small, ImageOptions(max_pixels=50_000))
    assert err.value.reason == "image_too_large"
    rec = process_image(small, ImageOptions(resize_mode="no"))
    assert (rec.original_width, rec.original_height) == (300, 200)
    # cut inside its image data, the same PNG is corrupt
    with pytest.raises(ImageRejected) as err:
        process_image(small[: len(small) // 2], ImageOptions())
    assert err.value.reason == "corrupt"


def test_png_with_a_bad_checksum_does_not_verify() -> None:
    buf = io.BytesIO()
    with Image.open(photos()[6]) as im:
        im.resize((64, 48)).save(buf, "PNG")
    data = bytearray(buf.getvalue())
    ok = process_image(bytes(data), ImageOptions(encode_format="png", image_size=32))
    assert ok.original_format == "PNG" and decoded(ok.data).format == "PNG"
    idat = data.index(b"IDAT")
    data[idat + 10] ^= 0xFF
    with pytest.raises(ImageRejected) as err:
        process_image(bytes(data), ImageOptions())
    assert err.value.reason == "corrupt"


def test_image_too_small_and_transparency() -> None:
    img = Image.new("RGBA", (40, 30), (255, 0, 0, 0))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    with pytest.raises(ImageRejected) as err:
        process_image(buf.getvalue(), ImageOptions(min_image_size=64))
    assert err.value.reason == "image_too_small"
    rec = process_image(buf.getvalue(), ImageOptions(resize_mode="no", encode_format="png"))
    assert decoded(rec.data).convert("RGB").getpixel((0, 0)) == (255, 255, 255)


def test_options_problems() -> None:
    assert ImageOptions().problems() == []
    bad = ImageOptions(image_size=0, encode_quality=101, max_pixels=0, min_image_size=-1)
    assert len(bad.problems()) == 4
