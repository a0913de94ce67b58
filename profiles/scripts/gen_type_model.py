#!/usr/bin/env python3
"""Writes profiles/data/types-r4.json, the R4 type model, from the official FHIR R4 examples package.

The input is the CC0 package hl7.fhir.r4.examples@4.0.1 (see gen_search_parameters.py for how
to get and unpack it). From the run of the repository root:

    python3 profiles/scripts/gen_type_model.py package/

For every base type the package defines (the StructureDefinitions that are specializations or
have no derivation at all: resources, complex and primitive datatypes, Element, Resource, …) the
output holds one line:

    "Patient": {"kind": "resource", "base": "DomainResource", "abstract": false,
                "elements": {"name": {"types": ["HumanName"], "min": 0, "max": "*", ...}, ...}}

Backbone elements become types of their own named by their path ("Patient.contact", base
"BackboneElement"), so a path is resolved one type at a time. Each element carries only facts
copied from the snapshot: `types` (type codes; FHIRPath system types as `System.String` etc.; a
contentReference as the referenced path), `min`, `max`, and the flags `choice` (a `[x]`
element, listed under its name without the suffix), `summary` (isSummary) and `modifier`
(isModifier) when true, and `targets` (the target type names of Reference and canonical
types). Profiles (constraints), logical models and extensions definitions are left out. The
output is deterministic: the same package gives the same bytes.
"""

import json
import sys
from pathlib import Path

OUTPUT = Path(__file__).resolve().parent.parent / "data" / "types-r4.json"
SYSTEM_PREFIX = "http://hl7.org/fhirpath/"
SD_PREFIX = "http://hl7.org/fhir/StructureDefinition/"


def type_code(code):
    """A snapshot type code as Tsunagi names types (FHIRPath system types keep `System.`)."""
    if code.startswith(SYSTEM_PREFIX):
        return code[len(SYSTEM_PREFIX):]
    return code


def is_base_type(sd):
    return (
        sd.get("resourceType") == "StructureDefinition"
        and sd.get("kind") in ("resource", "complex-type", "primitive-type")
        and sd.get("derivation", "specialization") == "specialization"
        and sd.get("url", "").startswith(SD_PREFIX)
    )


def element_entry(element, backbone_name):
    entry = {}
    if "contentReference" in element:
        entry["types"] = [element["contentReference"].lstrip("#")]
    elif backbone_name is not None:
        entry["types"] = [backbone_name]
    else:
        entry["types"] = [type_code(t["code"]) for t in element.get("type", [])]
    entry["min"] = element.get("min", 0)
    entry["max"] = element.get("max", "1")
    if element["path"].endswith("[x]"):
        entry["choice"] = True
    if element.get("isSummary"):
        entry["summary"] = True
    if element.get("isModifier"):
        entry["modifier"] = True
    targets = sorted(
        {
            profile[len(SD_PREFIX):]
            for t in element.get("type", [])
            if t.get("code") in ("Reference", "canonical")
            for profile in t.get("targetProfile", [])
            if profile.startswith(SD_PREFIX)
        }
    )
    if targets:
        entry["targets"] = targets
    return entry


def model_of(sd):
    """The types one StructureDefinition defines: the type itself and its backbone elements."""
    name = sd["type"]
    base = sd.get("baseDefinition", "")
    types = {
        name: {
            "kind": sd["kind"],
            "base": base[len(SD_PREFIX):] if base.startswith(SD_PREFIX) else None,
            "abstract": bool(sd.get("abstract", False)),
            "elements": {},
        }
    }
    elements = sd.get("snapshot", {}).get("element", [])
    # A path with children is a backbone element (its own type) when its declared type is
    # BackboneElement or Element and it is not the root.
    parents = {e["path"].rsplit(".", 1)[0] for e in elements if "." in e["path"]}
    for element in elements:
        path = element["path"]
        if "." not in path:
            continue
        owner, child = path.rsplit(".", 1)
        backbone_name = None
        codes = [t.get("code") for t in element.get("type", [])]
        if path in parents and codes in (["BackboneElement"], ["Element"]):
            backbone_name = path
            types[path] = {
                "kind": "backbone",
                "base": codes[0],
                "abstract": False,
                "elements": {},
            }
        if owner not in types:
            continue  # a child of a slice or of a primitive's inner structure
        types[owner]["elements"][child.removesuffix("[x]")] = element_entry(
            element, backbone_name
        )
    return types


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: gen_type_model.py PATH/TO/UNPACKED/package")
    package = Path(sys.argv[1])
    model = {}
    for path in sorted(package.glob("StructureDefinition-*.json")):
        sd = json.loads(path.read_text(encoding="utf-8"))
        if is_base_type(sd):
            model.update(model_of(sd))
    lines = [
        json.dumps(name, ensure_ascii=False)
        + ": "
        + json.dumps(model[name], ensure_ascii=False, separators=(",", ":"))
        for name in sorted(model)
    ]
    OUTPUT.write_text("{\n" + ",\n".join(lines) + "\n}\n", encoding="utf-8")
    print(f"wrote {len(model)} types to {OUTPUT}")


if __name__ == "__main__":
    main()
