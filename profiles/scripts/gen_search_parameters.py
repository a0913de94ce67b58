#!/usr/bin/env python3
"""Writes profiles/data/search-parameters-r4.json from the official FHIR R4 examples package.

The input is the CC0 package hl7.fhir.r4.examples@4.0.1, which holds every R4 SearchParameter
as one SearchParameter-*.json file. Get and unpack it with:

    npm pack hl7.fhir.r4.examples@4.0.1
    tar xzf hl7.fhir.r4.examples-4.0.1.tgz        # unpacks into ./package/

then run, from the repository root:

    python3 profiles/scripts/gen_search_parameters.py package/

The output is a JSON array, one compact object per line, sorted by url, holding only facts
copied from the package: url, code, base, type, expression (absent for the few parameters that
have none, e.g. _content), target, component ({definition, expression}), and multipleOr,
multipleAnd, modifier and comparator where the definition has them. Kept are the definitions
whose url starts with http://hl7.org/fhir/SearchParameter/ and that are not marked
experimental (the package's example and draft extension parameters). The output is
deterministic: the same package gives the same bytes.
"""

import json
import sys
from pathlib import Path

CORE_PREFIX = "http://hl7.org/fhir/SearchParameter/"
OUTPUT = Path(__file__).resolve().parent.parent / "data" / "search-parameters-r4.json"
OPTIONAL_FIELDS = ("multipleOr", "multipleAnd", "modifier", "comparator")


def compact(resource):
    """The fields Tsunagi needs from one SearchParameter resource, in a fixed order."""
    entry = {
        "url": resource["url"],
        "code": resource["code"],
        "base": resource.get("base", []),
        "type": resource["type"],
    }
    if "expression" in resource:
        entry["expression"] = resource["expression"]
    entry["target"] = resource.get("target", [])
    entry["component"] = [
        {"definition": c["definition"], "expression": c["expression"]}
        for c in resource.get("component", [])
    ]
    for field in OPTIONAL_FIELDS:
        if field in resource:
            entry[field] = resource[field]
    return entry


def is_core(resource):
    """Whether a definition belongs to core R4 search (not an example or draft extension)."""
    return (
        resource.get("resourceType") == "SearchParameter"
        and resource.get("url", "").startswith(CORE_PREFIX)
        and not resource.get("experimental", False)
    )


def main(argv):
    if len(argv) != 2:
        sys.exit(f"usage: {argv[0]} <unpacked hl7.fhir.r4.examples-4.0.1 package folder>")
    package = Path(argv[1])
    files = sorted(package.glob("SearchParameter-*.json"))
    if not files:
        sys.exit(f"no SearchParameter-*.json in {package}")
    resources = [json.loads(f.read_text(encoding="utf-8")) for f in files]
    kept = sorted((compact(r) for r in resources if is_core(r)), key=lambda e: e["url"])
    lines = [json.dumps(e, ensure_ascii=False, separators=(",", ":")) for e in kept]
    OUTPUT.write_text("[\n" + ",\n".join(lines) + "\n]\n", encoding="utf-8")
    print(f"{len(files)} files read, {len(kept)} definitions written to {OUTPUT}")


if __name__ == "__main__":
    main(sys.argv)
