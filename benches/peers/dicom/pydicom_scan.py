"""Reads every file under a folder with pydicom and groups the instances into studies and
series the way a DICOM-to-FHIR converter does (one ImagingStudy per Study Instance UID with
its series, modalities and instance counts; patient and study attributes decoded through the
Specific Character Set), then prints one JSON line:
  {"files": N, "studies": S, "seconds": T, "files_per_s": R}
Files pydicom refuses (not DICOM) are counted in N and skipped; DICOMDIRs are skipped.
Argument: the folder. Run by run.sh with the pinned pydicom on PYTHONPATH."""

import json
import os
import sys
import time

from pydicom import dcmread


def text(ds, keyword):
    value = ds.get(keyword)
    return None if value is None else str(value)


def scan(folder):
    studies = {}
    files = 0
    for directory, subdirectories, names in os.walk(folder):
        subdirectories.sort()
        for name in sorted(names):
            files += 1
            try:
                ds = dcmread(os.path.join(directory, name), stop_before_pixels=True)
            except Exception:  # whatever pydicom refuses is skipped, as a converter would
                continue
            study_uid = text(ds, "StudyInstanceUID")
            if study_uid is None or "DirectoryRecordSequence" in ds:
                continue
            study = studies.get(study_uid)
            if study is None:
                study = studies[study_uid] = {
                    "patient_id": text(ds, "PatientID"),
                    "patient_name": text(ds, "PatientName"),
                    "birth_date": text(ds, "PatientBirthDate"),
                    "sex": text(ds, "PatientSex"),
                    "accession": text(ds, "AccessionNumber"),
                    "started": (text(ds, "StudyDate"), text(ds, "StudyTime")),
                    "description": text(ds, "StudyDescription"),
                    "referrer": text(ds, "ReferringPhysicianName"),
                    "series": {},
                }
            series_uid = text(ds, "SeriesInstanceUID")
            series = study["series"].get(series_uid)
            if series is None:
                series = study["series"][series_uid] = {
                    "modality": text(ds, "Modality"),
                    "number": text(ds, "SeriesNumber"),
                    "description": text(ds, "SeriesDescription"),
                    "body_part": text(ds, "BodyPartExamined"),
                    "instances": [],
                }
            series["instances"].append(
                (text(ds, "SOPInstanceUID"), text(ds, "SOPClassUID"), text(ds, "InstanceNumber")))
    for study in studies.values():
        study["modalities"] = sorted({s["modality"] or "" for s in study["series"].values()})
        study["number_of_series"] = len(study["series"])
        study["number_of_instances"] = sum(len(s["instances"]) for s in study["series"].values())
    return files, studies


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    start = time.perf_counter()
    files, studies = scan(sys.argv[1])
    seconds = time.perf_counter() - start
    print(json.dumps({"files": files, "studies": len(studies), "seconds": round(seconds, 3),
                      "files_per_s": round(files / seconds) if seconds > 0 else None}))


if __name__ == "__main__":
    main()
