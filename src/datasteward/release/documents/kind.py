"""What a release holds and how it was collected, as the metadata documents name it.

* :func:`content_kind` reads the released records: when most of them link to an image (their
  ``source_uri``, or a URL or ``filetype`` in their ``metadata``) or carry image dimensions
  (``width`` and ``height``), the release is image metadata, not a text corpus. DataCite's
  ``resourceType`` and the Croissant description use it.
* :func:`collection_types` reads the recipe's sources for Croissant's
  ``rai:dataCollectionType``: a WARC crawl is "Web Scraping"; files or a Hugging Face dataset
  that someone else collected are "Secondary Data analysis" (the RAI vocabulary's term for
  reusing existing data); without a recipe, "Others".
"""

from __future__ import annotations

from dataclasses import dataclass

from datasteward.release.documents.context import ReleaseContext

_IMAGE_EXT = r"\.(jpe?g|png|gif|webp|tiff?|bmp|svg|heic|avif)([?#].*)?$"
_IMAGE_IN_JSON = (
    r'"(https?://)?[^"]+\.(jpe?g|png|gif|webp|tiff?|bmp|svg|heic|avif)"'
    r'|"filetype": ?"(jpe?g|png|gif|webp|tiff?|bmp|svg|heic|avif)"'
    r'|"width": ?"?\d+"?,.*"height": ?"?\d+'
)


@dataclass(frozen=True)
class ContentKind:
    records: int
    image_records: int

    @property
    def images(self) -> bool:
        """Most records describe an image."""
        return self.records > 0 and self.image_records * 2 > self.records

    def resource_type(self, *, links_only: bool) -> str:
        """DataCite ``resourceType`` (free text under ``resourceTypeGeneral: Dataset``)."""
        if self.images:
            return "Image metadata (links, captions, licences)"
        if links_only:
            return "Links to web pages, with content hashes"
        return "Text corpus"


def content_kind(ctx: ReleaseContext) -> ContentKind:
    """Count the released records that describe an image (see the module docstring)."""
    import duckdb

    names = set(ctx.schema.names)
    tests = []
    if "source_uri" in names:
        tests.append(f"regexp_matches(lower(coalesce(source_uri, '')), '{_IMAGE_EXT}')")
    if "metadata" in names:
        tests.append(
            "regexp_matches(lower(coalesce(CAST(metadata AS VARCHAR), '')), "
            f"'{_IMAGE_IN_JSON.replace(chr(39), chr(39) * 2)}')"
        )
    if not tests or not ctx.data_files:
        return ContentKind(ctx.records, 0)
    con = duckdb.connect()
    try:
        row = con.execute(
            f"SELECT count(*), count(*) FILTER (WHERE {' OR '.join(tests)}) "
            "FROM read_parquet(?, union_by_name = true)",
            [ctx.data_glob],
        ).fetchone()
    finally:
        con.close()
    return ContentKind(int(row[0]), int(row[1])) if row else ContentKind(ctx.records, 0)


#: RAI ``dataCollectionType`` per source format.
_COLLECTION = {"warc": "Web Scraping"}


def collection_types(ctx: ReleaseContext) -> list[str]:
    """Croissant ``rai:dataCollectionType`` values, from the recipe's sources."""
    if ctx.recipe is None or not ctx.recipe.sources:
        return ["Others"]
    out: list[str] = []
    for src in ctx.recipe.sources:
        kind = _COLLECTION.get(src.format, "Secondary Data analysis")
        if kind not in out:
            out.append(kind)
    return out
