#!/usr/bin/env bash
# HL7 v2 parse speed of two peers, on the same message as our `er7_parse` criterion group
# (adapters/benches/data/oru_r01_10obx.hl7, a made-up ORU^R01 with 10 OBX):
#   - npm @medplum/core: Hl7Message.parse(text)
#   - PyPI hl7:          hl7.parse(text)
# Each parses the message in a loop for PEER_SECONDS (default 5) seconds on one core and
# prints one line, e.g. `medplum_parse msg/s 24123`.
#
# The peers are installed on first use into $HOME/.cache/tsunagi-peers (node/ and venv/) and
# reused afterwards; nothing is written into the repository.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
message="$root/adapters/benches/data/oru_r01_10obx.hl7"
cache="${TSUNAGI_PEERS_CACHE:-$HOME/.cache/tsunagi-peers}"
seconds="${PEER_SECONDS:-5}"
medplum_version="5.2.13"
hl7_version="0.4.5"

node_dir="$cache/node"
if [ ! -f "$node_dir/node_modules/@medplum/core/package.json" ]; then
    echo "installing @medplum/core@$medplum_version into $node_dir" >&2
    mkdir -p "$node_dir"
    (cd "$node_dir" && npm install --no-audit --no-fund --silent "@medplum/core@$medplum_version" >&2)
fi

venv="$cache/venv"
if ! "$venv/bin/python" -c 'import hl7' 2>/dev/null; then
    echo "installing hl7==$hl7_version into $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "hl7==$hl7_version" >&2
fi

node "$here/medplum_parse.mjs" "$node_dir" "$message" "$seconds"
"$venv/bin/python" "$here/python_hl7_parse.py" "$message" "$seconds"
