#!/usr/bin/env python3
"""Writes profiles/data/compartment-patient-r4.json from the official FHIR R4 examples package.

The input is the CC0 package hl7.fhir.r4.examples@4.0.1 (get it as described in
gen_search_parameters.py), whose CompartmentDefinition-patient.json says, for every resource
type, which of its search parameters put a resource in a patient's compartment. Run, from the
repository root:

    python3 profiles/scripts/gen_compartments.py package/

The output maps each resource type that can be in the compartment to its parameter codes
({"AllergyIntolerance": ["patient", "recorder", "asserter"], ...}), keys sorted, one line per
type; types without parameters are left out. The same package gives the same bytes.
"""

import json
import sys
from pathlib import Path

OUTPUT = Path(__file__).resolve().parent.parent / "data" / "compartment-patient-r4.json"


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: gen_compartments.py PACKAGE_FOLDER")
    definition = json.loads(
        (Path(sys.argv[1]) / "CompartmentDefinition-patient.json").read_text(encoding="utf-8")
    )
    members = {
        entry["code"]: entry["param"]
        for entry in definition.get("resource", [])
        if entry.get("param")
    }
    lines = [
        f"{json.dumps(code)}:{json.dumps(members[code], separators=(',', ':'))}"
        for code in sorted(members)
    ]
    OUTPUT.write_text("{\n" + ",\n".join(lines) + "\n}\n", encoding="utf-8")
    print(f"{len(members)} resource types in the patient compartment -> {OUTPUT}")


if __name__ == "__main__":
    main()
