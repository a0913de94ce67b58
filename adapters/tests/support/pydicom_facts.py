#!/usr/bin/env python3
"""Prints what pydicom reads from DICOM files, as the reference our DICOM adapter is compared
with (adapters/tests/common/pydicom.rs runs it with PYTHONPATH set to the pinned wheel).

Usage: pydicom_facts.py FILE...

Prints one JSON array on stdout, one object per FILE in order: "path", "ok", "error", and
when ok the facts: the keys of TOP_LEVEL below, "patient_name_groups" ({"alphabetic",
"ideographic", "phonetic"} as pydicom decodes them), "is_dicomdir", and for a DICOMDIR
"referenced_files". Each file is read with dcmread(path, stop_before_pixels=True) without
force, so a file pydicom refuses (no DICM prefix, ...) has "ok": false and "error":
"<ExceptionType>: <message>". pydicom does not notice a file cut short inside its data set:
it returns the elements it read. Facts are str() of pydicom's value (numbers too, as their
text; an empty value is ""), or null when the attribute is absent or pydicom's value is
None. pydicom's own warnings go to stderr.
"""

import json
import sys

from pydicom import dcmread
from pydicom.valuerep import PersonName

MEDIA_STORAGE_DIRECTORY_STORAGE = "1.2.840.10008.1.3.10"

# JSON key -> DICOM keyword, all top-level.
TOP_LEVEL = {
    "study_uid": "StudyInstanceUID",
    "series_uid": "SeriesInstanceUID",
    "sop_instance_uid": "SOPInstanceUID",
    "sop_class_uid": "SOPClassUID",
    "modality": "Modality",
    "study_date": "StudyDate",
    "study_time": "StudyTime",
    "series_number": "SeriesNumber",
    "instance_number": "InstanceNumber",
    "accession": "AccessionNumber",
    "patient_id": "PatientID",
    "issuer_of_patient_id": "IssuerOfPatientID",
    "patient_name": "PatientName",
    "birth_date": "PatientBirthDate",
    "sex": "PatientSex",
    "study_description": "StudyDescription",
    "series_description": "SeriesDescription",
    "body_part": "BodyPartExamined",
}


def text(ds, keyword):
    """str() of the element's value; None when absent or without a value."""
    if keyword not in ds:
        return None
    value = ds[keyword].value
    if value is None:
        return None
    return str(value)


def name_groups(ds):
    """pydicom's decoded alphabetic, ideographic and phonetic groups of Patient's Name."""
    name = ds.get("PatientName")
    if not isinstance(name, PersonName):
        return None
    return {
        "alphabetic": name.alphabetic,
        "ideographic": name.ideographic,
        "phonetic": name.phonetic,
    }


def referenced_files(ds):
    """ReferencedFileID of every directory record that has one (the IMAGE, SR DOCUMENT,
    ENCAP DOC, ... leaves), components joined with "/", in Directory Record Sequence
    order."""
    files = []
    for record in ds.get("DirectoryRecordSequence", []):
        if "ReferencedFileID" not in record or record.ReferencedFileID is None:
            continue
        file_id = record.ReferencedFileID
        components = [file_id] if isinstance(file_id, str) else list(file_id)
        files.append("/".join(str(component) for component in components))
    return files


def facts(path):
    ds = dcmread(path, stop_before_pixels=True)
    found = {key: text(ds, keyword) for key, keyword in TOP_LEVEL.items()}
    found["patient_name_groups"] = name_groups(ds)
    meta = getattr(ds, "file_meta", None)
    media_class = meta.get("MediaStorageSOPClassUID") if meta is not None else None
    is_dicomdir = (media_class == MEDIA_STORAGE_DIRECTORY_STORAGE
                   or "DirectoryRecordSequence" in ds)
    found["is_dicomdir"] = is_dicomdir
    if is_dicomdir:
        found["referenced_files"] = referenced_files(ds)
    return found


def main(paths):
    results = []
    for path in paths:
        try:
            entry = {"path": path, "ok": True, "error": None, **facts(path)}
        except Exception as error:  # a file pydicom refuses is a fact too
            entry = {"path": path, "ok": False, "error": f"{type(error).__name__}: {error}"}
        results.append(entry)
    sys.stdout.buffer.write(json.dumps(results, ensure_ascii=False).encode("utf-8"))
    sys.stdout.buffer.write(b"\n")


if __name__ == "__main__":
    main(sys.argv[1:])
