#!/usr/bin/env bash
# DICOM folder conversion speed of Tsunagi against its reference reader, on the same folder of
# N generated CT/MR files (make_folder.py: made-up patients with Japanese and Latin names,
# full headers, 16x16 pixels; N = $1, default 2000):
#   - PyPI pydicom 3.0.2:  dcmread(stop_before_pixels=True) of every file, grouped into
#                          studies and series as a converter would (pydicom_scan.py)
#   - tsunagi:             the DICOM adapter's conversion of DIR to one Bundle, exactly what
#                          `tsunagi convert --from dicom DIR` runs, through the example
#                          $CARGO_TARGET_DIR/release/examples/dicom_scan (a release build of
#                          the adapters crate alone; the gateway's release build is much longer)
# Each runs PEER_RUNS (default 3) times; the best run counts, and the peak RSS is the largest
# of the runs (GNU /usr/bin/time, else Python's getrusage). Tsunagi is timed as a whole
# process; pydicom by its own scan loop (pydicom_scan.py's "files_per_s", leaving out
# interpreter start and imports; its whole-process rate is shown too). Tsunagi also writes
# FHIR Bundles, which pydicom_scan.py does not, so the ratio favours pydicom. Prints
# (pydicom's figures as measured on the 2-core dev machine, 2000 files):
#   pydicom_scan files/s 1405 peak_rss_kb 69616 (whole process 895)
#   tsunagi_convert files/s <T> peak_rss_kb <K>
#   ratio tsunagi/pydicom <T / 1405>
#
# pydicom is the pinned wheel the adapter tests use, unpacked on first use into
# $HOME/.cache/tsunagi-fixtures/pydicom-3.0.2. The folder is generated once into
# ${TMPDIR:-/tmp}/tsunagi-dicom-bench-N (or $DICOM_BENCH_DIR) and reused; nothing is written
# into the repository.
set -euo pipefail
shopt -s inherit_errexit

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
count="${1:-2000}"
runs="${PEER_RUNS:-3}"
target="${CARGO_TARGET_DIR:-$root/target}"
tsunagi="$target/release/examples/dicom_scan"
pydicom_version="3.0.2"
pydicom_wheel="pydicom-$pydicom_version-py3-none-any.whl"
pydicom_sha256="abf971a5440f84dbaf42c4b6758e30e62480902584f8b270b9a5d146e278a07b"
pydicom_url="https://files.pythonhosted.org/packages/46/e0/60466c6d712dad2cf807df315e39863e91609ffd1064ecb835994460bbda/$pydicom_wheel"
fixtures="$HOME/.cache/tsunagi-fixtures"
pydicom_root="$fixtures/pydicom-$pydicom_version"
folder="${DICOM_BENCH_DIR:-${TMPDIR:-/tmp}/tsunagi-dicom-bench-$count}"

work="$(mktemp -d "${TMPDIR:-/tmp}/tsunagi-dicom-peers.XXXXXX")"
trap 'rm -rf "$work"' EXIT

if [ ! -f "$pydicom_root/pydicom/__init__.py" ]; then
    echo "unpacking pydicom==$pydicom_version into $pydicom_root" >&2
    mkdir -p "$fixtures"
    python3 -m pip download --quiet --no-deps --only-binary=:all: "pydicom==$pydicom_version" \
        -d "$work" >&2 || curl -fsSL --retry 2 -o "$work/$pydicom_wheel" "$pydicom_url"
    echo "$pydicom_sha256  $work/$pydicom_wheel" | sha256sum --check --quiet
    # Unpack beside the target and rename, so a concurrent test never sees half a package.
    scratch="$(mktemp -d "$fixtures/.pydicom-$pydicom_version.XXXXXX")"
    python3 -m zipfile -e "$work/$pydicom_wheel" "$scratch/unpacked"
    mv -T "$scratch/unpacked" "$pydicom_root" 2>/dev/null || true  # someone else was first
    rm -rf "$scratch"
fi
export PYTHONPATH="$pydicom_root"

if [ ! -d "$folder" ]; then
    echo "writing $count DICOM files into $folder" >&2
    rm -rf "$folder.partial"
    python3 "$here/make_folder.py" "$folder.partial" "$count"
    mv -T "$folder.partial" "$folder"
fi
files="$(find "$folder" -type f | wc -l)"

# One run of a command, its stdout appended to the file $1; prints "<wall seconds> <peak RSS
# KiB>".
measure() {
    local output="$1"
    shift
    if [ -x /usr/bin/time ]; then
        local start end
        start="$(date +%s%N)"
        /usr/bin/time -f '%M' -o "$work/rss" "$@" >>"$output"
        end="$(date +%s%N)"
        echo "$(awk -v ns="$((end - start))" 'BEGIN { printf "%.6f", ns / 1e9 }') $(tail -n 1 "$work/rss")"
    else
        python3 -c '
import resource, subprocess, sys, time
with open(sys.argv[1], "ab") as output:
    start = time.perf_counter()
    subprocess.run(sys.argv[2:], stdout=output, check=True)
    seconds = time.perf_counter() - start
print(f"{seconds:.6f} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}")
' "$output" "$@"
    fi
}

# Best wall time and largest peak RSS over $runs runs: prints "<seconds> <KiB>".
best_of() {
    local output="$1"
    shift
    local best="" peak=0 result seconds rss
    for _ in $(seq 1 "$runs"); do
        result="$(measure "$output" "$@")"
        seconds="${result% *}"
        rss="${result#* }"
        if [ -z "$best" ] || awk -v a="$seconds" -v b="$best" 'BEGIN { exit !(a < b) }'; then
            best="$seconds"
        fi
        if [ "$rss" -gt "$peak" ]; then
            peak="$rss"
        fi
    done
    echo "$best $peak"
}

# Files per second for a wall time.
rate() { awk -v n="$files" -v s="$1" 'BEGIN { printf "%d", n / s }'; }

result="$(best_of "$work/pydicom.jsonl" python3 "$here/pydicom_scan.py" "$folder")"
pydicom_seconds="${result% *}"
pydicom_rss="${result#* }"
# The scan loop alone (without ~0.5 s of interpreter start and imports): pydicom's best case,
# and the figure the ratio uses.
pydicom_rate="$(python3 -c '
import json, sys
print(max(json.loads(line)["files_per_s"] for line in open(sys.argv[1])))
' "$work/pydicom.jsonl")"
echo "pydicom_scan files/s $pydicom_rate peak_rss_kb $pydicom_rss" \
    "(whole process $(rate "$pydicom_seconds"))"

echo "building $tsunagi" >&2
(cd "$root" && cargo build --quiet --release -p tsunagi-adapters --example dicom_scan >&2)
result="$(best_of /dev/null "$tsunagi" "$folder")"
tsunagi_seconds="${result% *}"
tsunagi_rss="${result#* }"
echo "tsunagi_convert files/s $(rate "$tsunagi_seconds") peak_rss_kb $tsunagi_rss"
echo "ratio tsunagi/pydicom $(awk -v t="$(rate "$tsunagi_seconds")" -v p="$pydicom_rate" \
    'BEGIN { printf "%.1f", t / p }')"
