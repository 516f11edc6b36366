#!/usr/bin/env bash
# Copy the benchmark instances the tests read from shared/bench into tests/data/bench
# and check each against the SHA-256 listed in SOURCES.md.
#   scripts/copy_test_bench.sh ../shared/bench
set -euo pipefail
src="${1:?usage: scripts/copy_test_bench.sh SHARED_BENCH_DIR}"
dst="$(dirname "$0")/../tests/data/bench"
files=(orlib/pmed1.txt orlib/pmed2.txt orlib/pmed3.txt orlib/pmed4.txt orlib/pmed5.txt
       orlib/pmed16.txt orlib/pmedopt.txt orlib/pmedcap1/pmedcap1_01.txt
       orlib/pmedcap1/pmedcap1_02.txt sw24978/sw24978.tsp SOURCES.md VERIFICATION.md)
for f in "${files[@]}"; do mkdir -p "$dst/$(dirname "$f")"; cp "$src/$f" "$dst/$f"; done
mkdir -p "$dst/spopt_tests" && cp "$src"/spopt_tests/*.csv "$dst/spopt_tests/"
cd "$dst"
for f in "${files[@]}" spopt_tests/*.csv; do
  want=$(grep -E "^[0-9a-f]{64}  $f\$" SOURCES.md | head -1 | cut -d' ' -f1 || true)
  [ -z "$want" ] && { echo "no checksum listed for $f"; continue; }
  have=$(sha256sum "$f" | cut -d' ' -f1)
  [ "$want" = "$have" ] || { echo "checksum mismatch: $f" >&2; exit 1; }
done
echo "copied and checked into $dst"
