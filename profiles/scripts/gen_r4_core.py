#!/usr/bin/env python3
"""Writes profiles/data/r4-core.json.gz, the built-in FHIR R4 core definitions the validator
and the package registry use, from the CC0 npm package hl7.fhir.r4.examples@4.0.1.

Usage: gen_r4_core.py PACKAGE_DIR   (the unpacked `package/` folder of `npm pack`)

What is kept: every StructureDefinition with its snapshot (differentials dropped), every
ValueSet, CodeSystem and ConceptMap, each without narrative, contacts and other prose the
validator never reads. Elements keep only what validation uses. The output is one JSON object
{"package": {...}, "resources": [...]}, sorted by resource type and URL so regenerating it gives
the same bytes.
"""
import gzip
import json
import pathlib
import sys

ELEMENT_KEYS = {
    "id", "path", "sliceName", "min", "max", "base", "type", "contentReference", "binding",
    "constraint", "slicing", "maxLength", "isModifier", "isSummary", "sliceIsConstraining",
}
ELEMENT_PREFIXES = ("fixed", "pattern", "minValue", "maxValue")
SD_KEYS = (
    "resourceType", "id", "url", "version", "name", "status", "kind", "abstract", "type",
    "baseDefinition", "derivation", "context", "contextInvariant", "fhirVersion",
)
DROPPED = {
    "text", "description", "purpose", "contact", "publisher", "copyright", "meta",
    "identifier", "date", "jurisdiction", "useContext", "mapping",
}
CONSTRAINT_KEYS = ("key", "severity", "expression", "human", "source")


def element(source):
    kept = {}
    for key, value in source.items():
        if key in ELEMENT_KEYS or key.startswith(ELEMENT_PREFIXES):
            if key == "binding":
                value = {k: v for k, v in value.items() if k in ("strength", "valueSet")}
            elif key == "constraint":
                value = [{k: c[k] for k in CONSTRAINT_KEYS if k in c} for c in value]
            kept[key] = value
    return kept


def structure_definition(source):
    kept = {key: source[key] for key in SD_KEYS if key in source}
    kept["snapshot"] = {"element": [element(e) for e in source["snapshot"]["element"]]}
    return kept


def concepts(items):
    out = []
    for concept in items:
        kept = {k: concept[k] for k in ("code", "display", "property") if k in concept}
        if "concept" in concept:
            kept["concept"] = concepts(concept["concept"])
        out.append(kept)
    return out


def terminology(source):
    kept = {k: v for k, v in source.items() if k not in DROPPED and k != "extension"}
    if "concept" in kept:
        kept["concept"] = concepts(kept["concept"])
    return kept


def main():
    package = pathlib.Path(sys.argv[1])
    manifest = json.loads((package / "package.json").read_text())
    resources = []
    for path in sorted(package.glob("*.json")):
        prefix = path.name.split("-", 1)[0]
        if prefix not in ("StructureDefinition", "ValueSet", "CodeSystem", "ConceptMap"):
            continue
        source = json.loads(path.read_text())
        if source.get("resourceType") != prefix or "url" not in source:
            continue
        if prefix == "StructureDefinition":
            if "snapshot" not in source:
                continue
            resources.append(structure_definition(source))
        else:
            resources.append(terminology(source))
    resources.sort(key=lambda r: (r["resourceType"], r["url"], r.get("version", "")))
    out = {
        "package": {"name": "hl7.fhir.r4.core", "version": "4.0.1",
                    "derivedFrom": f"{manifest['name']}@{manifest['version']}"},
        "resources": resources,
    }
    blob = json.dumps(out, separators=(",", ":"), ensure_ascii=False, sort_keys=True).encode()
    target = pathlib.Path(__file__).resolve().parent.parent / "data" / "r4-core.json.gz"
    target.write_bytes(gzip.compress(blob, 9, mtime=0))
    print(f"{target}: {len(resources)} resources, {len(blob)} bytes, {target.stat().st_size} gzipped")


if __name__ == "__main__":
    main()
