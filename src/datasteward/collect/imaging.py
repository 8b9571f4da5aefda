"""One downloaded image: verified, measured, resized and re-encoded without its metadata.

:func:`process_image` takes the bytes a server sent and returns an :class:`ImageRecord` (the
stored image and what was measured on the original) or raises :class:`ImageRejected` with a
reason code (``not_an_image``, ``corrupt``, ``image_too_large``, ``image_too_small``):

* the sha256 of the **original** bytes, so a links-only release can check a re-fetched image
  byte for byte (it is the record's ``payload_sha256``);
* decompression bombs are refused from the header, before any pixel is decoded: an image of
  more than ``max_pixels`` pixels (default 40 million, below Pillow's own
  ``MAX_IMAGE_PIXELS`` of 89 million) is ``image_too_large``. Pillow's own check is kept as a
  second line (the download's worker processes set ``MAX_IMAGE_PIXELS`` to ``max_pixels``,
  :func:`bound_pixels`): its ``DecompressionBombWarning``/``Error`` also count as
  ``image_too_large``;
* ``Image.verify()`` (PNG chunk checksums, structure) and a full ``load()`` (a truncated or
  corrupt JPEG fails there): either failing is ``corrupt``;
* licence and author fields of the EXIF (Artist, Copyright, ImageDescription) and XMP
  (``dc:creator``, ``dc:rights``, ``xmpRights:*``, ``cc:license``...) are kept in the record;
  the stored image carries no EXIF, XMP, ICC or comments (it is re-encoded from pixels, after
  the EXIF orientation is applied);
* resized like img2dataset's ``resize_mode``: ``no``, ``keep_ratio`` (smaller side =
  ``image_size``), ``keep_ratio_largest`` (larger side), ``center_crop`` (smaller side, then a
  centred square) and ``border`` (larger side, padded to a black square); area (box) filter to
  shrink, Lanczos to enlarge. A JPEG that is shrunk is decoded at a reduced scale first
  (Pillow ``draft``: the DCT scales by 1/2, 1/4 or 1/8, never below the target size), which
  is most of the decoding CPU saved;
* a perceptual hash (``imagehash.phash``, 64 bits as 16 hex digits) for near-duplicates.

Pillow and imagehash are the ``collect`` extra; they are imported when an image is processed.
"""

from __future__ import annotations

import hashlib
import io
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from datasteward.errors import MissingDependencyError

if TYPE_CHECKING:
    from PIL import Image as PILImage

ResizeMode = Literal["no", "keep_ratio", "keep_ratio_largest", "center_crop", "border"]
EncodeFormat = Literal["jpg", "png", "webp"]

#: Reason codes of images refused after download (counted per reason by the downloader).
REJECT_REASONS = ("not_an_image", "corrupt", "image_too_large", "image_too_small")

#: The default bound on pixels (width x height) of a downloaded image.
MAX_PIXELS = 40_000_000

#: EXIF tags kept in the record (tag number -> JSON key).
_EXIF_KEEP = {0x013B: "artist", 0x8298: "copyright", 0x010E: "description", 0x9C9D: "xp_author"}
#: XMP properties kept in the record (the licence, rights and author statements).
_XMP_KEEP = (
    "dc:creator",
    "dc:rights",
    "xmpRights:UsageTerms",
    "xmpRights:WebStatement",
    "xmpRights:Marked",
    "cc:license",
    "cc:attributionName",
    "cc:attributionURL",
    "photoshop:Credit",
    "photoshop:Source",
    "plus:Licensor",
    "Iptc4xmpCore:CreatorContactInfo",
)
_XMP_MAX = 1 << 20
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")
_FIELD_MAX = 2000


@dataclass(frozen=True, kw_only=True)
class ImageOptions:
    """How downloaded images are checked and stored (``[[collect]]`` of ``kind = "images"``)."""

    #: Target size in pixels (its meaning depends on ``resize_mode``).
    image_size: int = 256
    #: ``no``, ``keep_ratio``, ``keep_ratio_largest``, ``center_crop`` or ``border``
    #: (img2dataset's modes and default).
    resize_mode: ResizeMode = "border"
    #: Only shrink: an image already smaller than the target is stored at its size.
    resize_only_if_bigger: bool = False
    #: Format of the stored image: ``jpg``, ``png`` or ``webp``.
    encode_format: EncodeFormat = "jpg"
    #: JPEG/WebP quality of the stored image (1-100).
    encode_quality: int = 95
    #: Refuse (``image_too_large``) an image with more pixels than this, before decoding it.
    max_pixels: int = MAX_PIXELS
    #: Refuse (``image_too_small``) an image whose smaller side is below this many pixels.
    min_image_size: int = 0
    #: Decode JPEGs that will be shrunk at a reduced DCT scale (faster; never below target).
    fast_decode: bool = True

    def problems(self) -> list[str]:
        """What is wrong with these options (empty when they are usable)."""
        out = []
        if self.image_size < 1:
            out.append(f"image_size must be at least 1, got {self.image_size}")
        if not 1 <= self.encode_quality <= 100:
            out.append(f"encode_quality must be 1-100, got {self.encode_quality}")
        if self.max_pixels < 1:
            out.append(f"max_pixels must be positive, got {self.max_pixels}")
        if self.min_image_size < 0:
            out.append(f"min_image_size must not be negative, got {self.min_image_size}")
        return out


class ImageRejected(Exception):
    """A downloaded body that is not kept as an image; ``reason`` is one of REJECT_REASONS."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(reason, detail)
        self.reason = reason
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.reason}: {self.detail}"


@dataclass(frozen=True, kw_only=True)
class ImageRecord:
    """A verified image as stored, and what was measured on the original."""

    #: The stored (resized, re-encoded, metadata-free) image.
    data: bytes
    #: Its file extension in the shard: ``jpg``, ``png`` or ``webp``.
    ext: str
    width: int
    height: int
    #: sha256 of the bytes as downloaded.
    sha256: str
    #: Perceptual hash of the image (imagehash ``phash``, 16 hex digits).
    phash: str
    original_width: int
    original_height: int
    #: Pillow's name of the original format (``JPEG``, ``PNG``, ``WEBP``, ``GIF`` ...).
    original_format: str
    original_bytes: int
    #: Licence and author fields found in the EXIF and XMP of the original.
    rights: dict[str, str] = field(default_factory=dict)

    def measures(self) -> dict[str, object]:
        """The measures as the JSON of a sample has them."""
        return {
            "sha256": self.sha256,
            "phash": self.phash,
            "width": self.width,
            "height": self.height,
            "original_width": self.original_width,
            "original_height": self.original_height,
            "format": self.original_format,
            "original_bytes": self.original_bytes,
            "stored_format": self.ext,
            "stored_bytes": len(self.data),
            "exif_rights": dict(self.rights),
        }


def _require() -> None:
    try:
        import imagehash  # noqa: F401
        import PIL  # noqa: F401
    except ImportError as exc:  # pragma: no cover - the collect extra is installed in dev
        raise MissingDependencyError.for_extra(
            exc.name or "pillow", "collect", "collecting images"
        ) from None


def bound_pixels(max_pixels: int) -> None:
    """Set Pillow's own decompression-bomb bound to ``max_pixels`` in this process (the
    download's worker processes call it once): Pillow then refuses, on open, an image of more
    than twice that, a second line behind the header check of :func:`process_image`."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = max_pixels


def target_size(w: int, h: int, opts: ImageOptions) -> tuple[int, int]:
    """The size the image is scaled to before any crop or border (``(w, h)`` for no resize)."""
    mode, size = opts.resize_mode, opts.image_size
    if mode == "no":
        return w, h
    side = min(w, h) if mode in ("keep_ratio", "center_crop") else max(w, h)
    if opts.resize_only_if_bigger and side <= size:
        return w, h
    scale = size / side
    return max(1, round(w * scale)), max(1, round(h * scale))


def process_image(data: bytes, opts: ImageOptions) -> ImageRecord:
    """Verify, measure, resize and re-encode one downloaded image (see the module doc)."""
    _require()
    import imagehash
    from PIL import Image, ImageOps, UnidentifiedImageError

    sha = hashlib.sha256(data).hexdigest()
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            probe = Image.open(io.BytesIO(data))
        except UnidentifiedImageError:
            raise ImageRejected(
                "not_an_image",
                f"not an image Pillow reads ({len(data)} bytes, starts {data[:8]!r})",
            ) from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImageRejected(
                "image_too_large",
                f"{exc} (Pillow's bound; this collect refuses "
                f"more than max_pixels = {opts.max_pixels:,})",
            ) from None
        except (OSError, ValueError, SyntaxError) as exc:
            raise ImageRejected("corrupt", f"unreadable header: {exc}") from None
        with probe:
            fmt = probe.format or "unknown"
            w, h = probe.size
            _check_size(w, h, opts)
            try:
                probe.verify()
            except Exception as exc:  # noqa: BLE001 - Pillow raises many types on bad data
                raise ImageRejected("corrupt", f"{fmt} does not verify: {exc}") from None
        img = Image.open(io.BytesIO(data))
        try:
            rights = _rights(img)
            tw, th = target_size(w, h, opts)
            if opts.fast_decode and fmt == "JPEG" and tw < w and th < h:
                img.draft("RGB", (tw, th))
            try:
                img.load()
            except Exception as exc:  # noqa: BLE001 - truncated/corrupt data: many types
                raise ImageRejected("corrupt", f"{fmt} does not decode: {exc}") from None
            pixels = _rgb(ImageOps.exif_transpose(img) or img)
        finally:
            img.close()
    if pixels.size != img.size:  # the orientation swapped the sides
        w, h = h, w
        tw, th = th, tw
    out = _resize(pixels, tw, th, opts)
    stored = _encode(out, opts)
    return ImageRecord(
        data=stored,
        ext=opts.encode_format,
        width=out.width,
        height=out.height,
        sha256=sha,
        phash=str(imagehash.phash(out)),
        original_width=w,
        original_height=h,
        original_format=fmt,
        original_bytes=len(data),
        rights=rights,
    )


def _check_size(w: int, h: int, opts: ImageOptions) -> None:
    if w <= 0 or h <= 0:
        raise ImageRejected("corrupt", f"the header says {w}x{h} pixels")
    if w * h > opts.max_pixels:
        raise ImageRejected(
            "image_too_large",
            f"{w}x{h} = {w * h:,} pixels, over max_pixels = {opts.max_pixels:,} "
            "(a decompression bomb, or an image larger than the collect allows)",
        )
    if min(w, h) < opts.min_image_size:
        raise ImageRejected(
            "image_too_small", f"{w}x{h}, smaller side under min_image_size = {opts.min_image_size}"
        )


def _rgb(img: PILImage.Image) -> PILImage.Image:
    from PIL import Image

    if img.mode == "RGB":
        return img
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        back = Image.new("RGB", rgba.size, (255, 255, 255))
        back.paste(rgba, mask=rgba.getchannel("A"))
        return back
    return img.convert("RGB")


def _resize(img: PILImage.Image, tw: int, th: int, opts: ImageOptions) -> PILImage.Image:
    from PIL import Image

    if (tw, th) != img.size:
        shrink = tw * th < img.width * img.height
        img = img.resize((tw, th), Image.Resampling.BOX if shrink else Image.Resampling.LANCZOS)
    size = opts.image_size
    if opts.resize_mode == "center_crop" and (img.width > size or img.height > size):
        cw, ch = min(size, img.width), min(size, img.height)
        left, top = (img.width - cw) // 2, (img.height - ch) // 2
        img = img.crop((left, top, left + cw, top + ch))
    elif (
        opts.resize_mode == "border"
        and (img.width, img.height) != (size, size)
        and (img.width <= size and img.height <= size)
    ):
        canvas = Image.new("RGB", (size, size), (0, 0, 0))
        canvas.paste(img, ((size - img.width) // 2, (size - img.height) // 2))
        img = canvas
    return img


def _encode(img: PILImage.Image, opts: ImageOptions) -> bytes:
    buf = io.BytesIO()
    if opts.encode_format == "jpg":
        img.save(buf, "JPEG", quality=opts.encode_quality)
    elif opts.encode_format == "webp":
        img.save(buf, "WEBP", quality=opts.encode_quality)
    else:
        img.save(buf, "PNG")
    return buf.getvalue()


def _rights(img: PILImage.Image) -> dict[str, str]:
    """Licence and author fields of the EXIF and XMP, as short plain strings."""
    out: dict[str, str] = {}
    exif: Mapping[int, object]
    try:
        exif = img.getexif()
    except Exception:  # noqa: BLE001 - a broken EXIF block is not a broken image
        exif = {}
    for tag, key in _EXIF_KEEP.items():
        value = exif.get(tag)
        if isinstance(value, bytes):  # XP* tags are UTF-16 bytes
            value = value.decode("utf-16-le", "replace").rstrip("\x00")
        if isinstance(value, str) and (text := _clean(value)):
            out[f"exif_{key}"] = text
    raw = img.info.get("xmp") or img.info.get("XML:com.adobe.xmp")
    xmp = raw[:_XMP_MAX].decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    if isinstance(xmp, str):
        for prop in _XMP_KEEP:
            if (found := _xmp_value(xmp[:_XMP_MAX], prop)) is not None:
                out["xmp_" + prop.replace(":", "_")] = found
    return out


def _xmp_value(xmp: str, prop: str) -> str | None:
    name = re.escape(prop)
    m = re.search(rf"<{name}(?:\s[^>]*)?>(.*?)</{name}>", xmp, re.S)
    if m:
        return _clean(_TAG.sub(" ", m.group(1))) or None
    m = re.search(rf"""\s{name}\s*=\s*(["'])(.*?)\1""", xmp, re.S)
    if m:
        attr = m.group(2)
        if not attr.strip():
            return None
        return _clean(attr) or None
    resource = re.search(rf"<{name}\s[^>]*rdf:resource\s*=\s*([\"'])(.*?)\1", xmp, re.S)
    return _clean(resource.group(2)) or None if resource else None


def _clean(text: str) -> str:
    text = _SPACE.sub(" ", text.replace("\x00", " ")).strip()
    return text[:_FIELD_MAX]
