#!/usr/bin/env python3
"""Writes the DICOM test media of this folder (cd-ct/, cd-broken/, single/) with pydicom.

Every person, number and UID here is made up. UIDs are `2.25.<decimal UUID>` (PS3.5 B.2)
from UUIDv5 over fixed names, dates are fixed, and pydicom is pinned, so a re-run
writes byte-identical files. See README.md for what each file exercises.

Run from the repository root, with the pinned pydicom wheel that the adapter tests unpack
(adapters/tests/common/pydicom.rs):

    PYTHONPATH=$HOME/.cache/tsunagi-fixtures/pydicom-3.0.2 \
        python3 adapters/tests/data/dicom/generate.py

With `--out DIR` it writes the three folders under DIR instead of beside this script
(tests/dicom_fixtures.rs uses that to check the committed files are reproducible).
"""

import argparse
import pathlib
import random
import shutil
import struct
import sys
import tempfile
import uuid

import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.fileset import FileSet
from pydicom.sequence import Sequence
from pydicom.uid import (
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

PYDICOM_VERSION = "3.0.2"
if pydicom.__version__ != PYDICOM_VERSION:
    sys.exit(
        f"generate.py needs pydicom {PYDICOM_VERSION} (found {pydicom.__version__} at "
        f"{pydicom.__file__}); the bytes written depend on the version"
    )

HERE = pathlib.Path(__file__).resolve().parent

# Namespace of every fixture UID; a made-up UUID, never change it (the tests assert on
# the UIDs it gives).
UID_NAMESPACE = uuid.UUID("a4318b86-7048-447d-869b-fc9d9247ca49")

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
MR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.4"
US_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.6.1"
BASIC_TEXT_SR_STORAGE = "1.2.840.10008.5.1.4.1.1.88.11"
ENCAPSULATED_PDF_STORAGE = "1.2.840.10008.5.1.4.1.1.104.1"

JIS = ["", "ISO 2022 IR 87"]  # written as `\ISO 2022 IR 87`: ASCII default, JIS X 0208 by escape


def uid(name):
    """The fixture UID for `name`: 2.25 + the UUIDv5 of the name as a decimal integer."""
    return f"2.25.{uuid.uuid5(UID_NAMESPACE, name).int}"


def code(value, scheme, meaning):
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = scheme
    item.CodeMeaning = meaning
    return item


def pixels(rows, columns, seed, big_endian=False):
    """A small deterministic 12-bit gradient, as uint16 bytes."""
    values = [(seed * 97 + r * 37 + c * 11) % 4096 for r in range(rows) for c in range(columns)]
    return struct.pack((">" if big_endian else "<") + "H" * len(values), *values)


def file_meta(ds, transfer_syntax):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = transfer_syntax
    ds.file_meta = meta
    return ds


# ---------------------------------------------------------------------------------------
# cd-ct: one CT study on a patient CD


CD_PATIENT = {
    "SpecificCharacterSet": JIS,
    "PatientName": "Kawase^Hanako=川瀬^花子=かわせ^はなこ",
    "PatientID": "TK-000417",
    "IssuerOfPatientID": "TSUNAGI-HOSP",
    "PatientBirthDate": "19780315",
    "PatientSex": "F",
    "PatientAge": "048Y",
}
CD_STUDY = {
    "StudyInstanceUID": uid("cd-ct/study"),
    "StudyDate": "20261102",
    "StudyTime": "101500",
    "AccessionNumber": "ACC20261102001",
    "StudyID": "CT0042",
    "ReferringPhysicianName": "Mori^Kenta=森^健太=もり^けんた",
    "StudyDescription": "CT 胸部単純",
    "InstitutionName": "つなぎ総合病院",
    "Manufacturer": "TSUNAGI FIXTURES",
    "ManufacturerModelName": "generate.py",
    "StationName": "CT01",
}
CD_FRAME_OF_REFERENCE = uid("cd-ct/frame-of-reference")
CD_PLACER_ORDER = "ORD-CT-0042"
CD_REQUESTED_PROCEDURE = "RP-0042"
CD_SCHEDULED_STEP = "SPS-0042"

# (series key, number, description, time, image type, orientation, positions)
CD_CT_SERIES = [
    ("localizer", 1, "Scout", "101530", ["ORIGINAL", "PRIMARY", "LOCALIZER"],
     [1, 0, 0, 0, 0, -1], [[-200, 0, 0]]),
    ("axial", 2, "胸部 Axial 5.0", "101700", ["ORIGINAL", "PRIMARY", "AXIAL"],
     [1, 0, 0, 0, 1, 0], [[-200, -200, -100], [-200, -200, -105], [-200, -200, -110]]),
    ("coronal", 3, "Coronal MPR 3.0", "102000", ["DERIVED", "SECONDARY", "REFORMATTED"],
     [1, 0, 0, 0, 0, -1], [[-200, -20, 0], [-200, 0, 0]]),
]


def cd_common(ds):
    for keyword, value in {**CD_PATIENT, **CD_STUDY}.items():
        setattr(ds, keyword, value)
    return ds


def cd_ct_image(series_key, number, description, time, image_type, orientation, position,
                instance_number):
    ds = cd_common(Dataset())
    ds.SOPClassUID = CT_IMAGE_STORAGE
    ds.SOPInstanceUID = uid(f"cd-ct/{series_key}/{instance_number}")
    ds.ImageType = image_type
    ds.Modality = "CT"
    ds.SeriesInstanceUID = uid(f"cd-ct/{series_key}")
    ds.SeriesNumber = number
    ds.SeriesDate = CD_STUDY["StudyDate"]
    ds.SeriesTime = time
    ds.SeriesDescription = description
    ds.BodyPartExamined = "CHEST"
    ds.PatientPosition = "HFS"
    ds.ContentDate = CD_STUDY["StudyDate"]
    ds.ContentTime = time
    ds.InstanceNumber = instance_number
    ds.AcquisitionNumber = 1
    ds.KVP = "120"
    ds.SliceThickness = "5.0" if series_key == "axial" else "3.0"
    ds.FrameOfReferenceUID = CD_FRAME_OF_REFERENCE
    ds.PositionReferenceIndicator = ""
    ds.ImagePositionPatient = position
    ds.ImageOrientationPatient = orientation
    request = Dataset()
    request.RequestedProcedureID = CD_REQUESTED_PROCEDURE
    request.ScheduledProcedureStepID = CD_SCHEDULED_STEP
    ds.RequestAttributesSequence = Sequence([request])
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = 8
    ds.Columns = 8
    ds.PixelSpacing = [50, 50]
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.WindowCenter = "40"
    ds.WindowWidth = "400"
    ds.RescaleIntercept = "-1024"
    ds.RescaleSlope = "1"
    ds.RescaleType = "HU"
    ds.PixelData = pixels(8, 8, seed=number * 10 + instance_number)
    return file_meta(ds, ExplicitVRLittleEndian)


def cd_sr(images):
    ds = cd_common(Dataset())
    ds.SOPClassUID = BASIC_TEXT_SR_STORAGE
    ds.SOPInstanceUID = uid("cd-ct/report/1")
    ds.Modality = "SR"
    ds.SeriesInstanceUID = uid("cd-ct/report")
    ds.SeriesNumber = 90
    ds.SeriesDate = CD_STUDY["StudyDate"]
    ds.SeriesTime = "143000"
    ds.SeriesDescription = "読影レポート"
    ds.ReferencedPerformedProcedureStepSequence = Sequence()
    ds.InstanceNumber = 1
    ds.CompletionFlag = "COMPLETE"
    ds.VerificationFlag = "VERIFIED"
    ds.ContentDate = CD_STUDY["StudyDate"]
    ds.ContentTime = "143000"

    observer = Dataset()
    observer.VerifyingObserverName = "Ishida^Makoto=石田^誠=いしだ^まこと"
    observer.VerifyingObserverIdentificationCodeSequence = Sequence(
        [code("R0012", "99TSUNAGI", "Ishida Makoto")])
    observer.VerifyingOrganization = "つなぎ総合病院 放射線科"
    observer.VerificationDateTime = "20261102143500"
    ds.VerifyingObserverSequence = Sequence([observer])

    request = Dataset()
    request.StudyInstanceUID = CD_STUDY["StudyInstanceUID"]
    request.ReferencedStudySequence = Sequence()
    request.AccessionNumber = CD_STUDY["AccessionNumber"]
    request.PlacerOrderNumberImagingServiceRequest = CD_PLACER_ORDER
    request.FillerOrderNumberImagingServiceRequest = ""
    request.RequestedProcedureID = CD_REQUESTED_PROCEDURE
    request.RequestedProcedureDescription = CD_STUDY["StudyDescription"]
    request.RequestedProcedureCodeSequence = Sequence()
    ds.ReferencedRequestSequence = Sequence([request])
    ds.PerformedProcedureCodeSequence = Sequence()

    evidence = Dataset()
    evidence.StudyInstanceUID = CD_STUDY["StudyInstanceUID"]
    evidence.ReferencedSeriesSequence = Sequence()
    for series_uid, series_images in images.items():
        series = Dataset()
        series.SeriesInstanceUID = series_uid
        series.ReferencedSOPSequence = Sequence()
        for image in series_images:
            sop = Dataset()
            sop.ReferencedSOPClassUID = image.SOPClassUID
            sop.ReferencedSOPInstanceUID = image.SOPInstanceUID
            series.ReferencedSOPSequence.append(sop)
        evidence.ReferencedSeriesSequence.append(series)
    ds.CurrentRequestedProcedureEvidenceSequence = Sequence([evidence])

    # SR Document Content: TID 2000 root container with two TEXT items.
    ds.ValueType = "CONTAINER"
    ds.ConceptNameCodeSequence = Sequence(
        [code("18748-4", "LN", "Diagnostic Imaging Report")])
    ds.ContinuityOfContent = "SEPARATE"
    template = Dataset()
    template.MappingResource = "DCMR"
    template.TemplateIdentifier = "2000"
    ds.ContentTemplateSequence = Sequence([template])
    ds.ContentSequence = Sequence()
    for value, meaning, text in [
        ("121071", "Finding",
         "右肺下葉S6に5mm大の結節を認める。\r\nA 5 mm nodule in the right lower lobe (S6)."),
        ("121073", "Impression",
         "右肺結節。3か月後のCT再検を推奨。\r\nRight lung nodule; follow-up CT in 3 months."),
    ]:
        item = Dataset()
        item.RelationshipType = "CONTAINS"
        item.ValueType = "TEXT"
        item.ConceptNameCodeSequence = Sequence([code(value, "DCM", meaning)])
        item.TextValue = text
        ds.ContentSequence.append(item)
    return file_meta(ds, ExplicitVRLittleEndian)


def tiny_pdf(lines):
    """A one-page PDF with `lines` in Helvetica, with a correct cross-reference table."""
    text = "BT /F1 11 Tf 56 780 Td 14 TL " + " ".join(
        "(" + line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ") '"
        for line in lines) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        "/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        f"<< /Length {len(text)} >>\nstream\n{text}\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("ascii")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode("ascii")
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode("ascii")
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\n"
            f"startxref\n{xref}\n%%EOF\n").encode("ascii")
    return bytes(out)


CD_PDF = tiny_pdf([
    "Tsunagi test fixture - made-up data, not a real patient",
    "Radiology report: CT chest without contrast",
    "Patient: KAWASE HANAKO   ID: TK-000417   DOB: 1978-03-15   Sex: F",
    "Study date: 2026-11-02   Accession: ACC20261102001   Order: ORD-CT-0042",
    "Findings: A 5 mm nodule in the right lower lobe (S6).",
    "Impression: Right lung nodule; follow-up CT in 3 months.",
    "Verified by: ISHIDA MAKOTO, 2026-11-02 14:35",
])


def cd_pdf():
    ds = cd_common(Dataset())
    ds.SOPClassUID = ENCAPSULATED_PDF_STORAGE
    ds.SOPInstanceUID = uid("cd-ct/pdf/1")
    ds.Modality = "DOC"
    ds.SeriesInstanceUID = uid("cd-ct/pdf")
    ds.SeriesNumber = 91
    ds.SeriesDate = CD_STUDY["StudyDate"]
    ds.SeriesTime = "144000"
    ds.SeriesDescription = "読影レポート PDF"
    ds.ConversionType = "WSD"
    ds.InstanceNumber = 1
    ds.ContentDate = CD_STUDY["StudyDate"]
    ds.ContentTime = "144000"
    ds.AcquisitionDateTime = "20261102144000"
    ds.BurnedInAnnotation = "YES"
    ds.DocumentTitle = "CT 胸部単純 読影レポート"
    ds.ConceptNameCodeSequence = Sequence(
        [code("18748-4", "LN", "Diagnostic Imaging Report")])
    ds.MIMETypeOfEncapsulatedDocument = "application/pdf"
    ds.EncapsulatedDocumentLength = len(CD_PDF)
    # OB values have even length: one NUL pads an odd PDF; the length above is the PDF's.
    ds.EncapsulatedDocument = CD_PDF + b"\0" * (len(CD_PDF) % 2)
    return file_meta(ds, ExplicitVRLittleEndian)


def write_file_set(folder, instances, file_set_id, file_set_uid):
    """Writes `instances` and their DICOMDIR with pydicom's FileSet under `folder`, files
    under DICOM/ (the usual layout of a patient CD) instead of pydicom's default root."""
    file_set = FileSet()
    file_set.UID = file_set_uid
    for ds in instances:
        file_set.add(ds)
    # pydicom names files PT000000/ST000000/SE000000/IM000000 under the root; move each
    # under DICOM/, point its record at the new place, then rewrite only the DICOMDIR.
    file_set.write(folder)
    for instance in file_set:
        old_path = folder.joinpath(*instance.ReferencedFileID)
        new_id = ["DICOM", *instance.ReferencedFileID]
        new_path = folder.joinpath(*new_id)
        new_path.parent.mkdir(parents=True, exist_ok=True)
        old_path.rename(new_path)
        instance["ReferencedFileID"].value = new_id
    for leftover in sorted(folder.glob("PT*"), reverse=True):
        shutil.rmtree(leftover)
    file_set.ID = file_set_id  # a DICOMDIR change, so write() below is not a no-op
    file_set.write(use_existing=True)


def write_cd_ct(folder):
    images = {}
    instances = []
    for series_key, number, description, time, image_type, orientation, positions in CD_CT_SERIES:
        series_images = [
            cd_ct_image(series_key, number, description, time, image_type, orientation,
                        position, instance_number)
            for instance_number, position in enumerate(positions, start=1)
        ]
        images[series_images[0].SeriesInstanceUID] = series_images
        instances += series_images
    instances.append(cd_sr(images))
    instances.append(cd_pdf())
    write_file_set(folder, instances, "TSUNAGI_CD0417", uid("cd-ct/file-set"))

    # What a viewer CD carries besides the DICOM files (DOS line ends, as on real discs).
    (folder / "AUTORUN.INF").write_bytes(
        b"[autorun]\r\nopen=VIEWER\\VIEWER.EXE\r\nicon=VIEWER\\VIEWER.ICO\r\n"
        b"label=TK-000417 20261102\r\n")
    (folder / "VIEWER").mkdir()
    (folder / "VIEWER" / "README.TXT").write_bytes(
        "Tsunagi test CD (made-up data). The viewer program is not included.\r\n"
        "このCDは試験用の架空データです。\r\n".encode("shift_jis"))


# ---------------------------------------------------------------------------------------
# cd-broken: a DICOMDIR whose files are missing, truncated or not DICOM


def broken_image(instance_number):
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.PatientName = "Morita^Jun"
    ds.PatientID = "TK-000902"
    ds.PatientBirthDate = "19650420"
    ds.PatientSex = "M"
    ds.StudyInstanceUID = uid("cd-broken/study")
    ds.StudyDate = "20261005"
    ds.StudyTime = "090000"
    ds.AccessionNumber = "ACC20261005007"
    ds.StudyID = "CR0007"
    ds.ReferringPhysicianName = ""
    ds.StudyDescription = "CT Head"
    ds.SOPClassUID = CT_IMAGE_STORAGE
    ds.SOPInstanceUID = uid(f"cd-broken/head/{instance_number}")
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.Modality = "CT"
    ds.SeriesInstanceUID = uid("cd-broken/head")
    ds.SeriesNumber = 1
    ds.SeriesDescription = "Head Axial"
    ds.BodyPartExamined = "HEAD"
    ds.InstanceNumber = instance_number
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = 8
    ds.Columns = 8
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.PixelData = pixels(8, 8, seed=900 + instance_number)
    return file_meta(ds, ExplicitVRLittleEndian)


def write_cd_broken(folder):
    write_file_set(folder, [broken_image(n) for n in (1, 2, 3)], "TSUNAGI_BROKEN",
                   uid("cd-broken/file-set"))
    series = folder / "DICOM" / "PT000000" / "ST000000" / "SE000000"
    (series / "IM000001").unlink()  # referenced, missing
    truncated = series / "IM000002"
    data = truncated.read_bytes()
    # Cut inside the Patient's Name value, well before Pixel Data.
    cut = data.index(b"Morita^Jun") + 4
    truncated.write_bytes(data[:cut])
    # Not in the DICOMDIR, named like an image, not DICOM at all.
    (series / "IM000003").write_bytes(random.Random(902).randbytes(1024))


# ---------------------------------------------------------------------------------------
# single: stand-alone files in other encodings


def single_image(sop_class, modality, key, patient, study, series, size, transfer_syntax):
    ds = Dataset()
    for keyword, value in {**patient, **study, **series}.items():
        setattr(ds, keyword, value)
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = uid(f"single/{key}/1")
    ds.StudyInstanceUID = uid(f"single/{key}/study")
    ds.SeriesInstanceUID = uid(f"single/{key}/series")
    ds.Modality = modality
    ds.SeriesNumber = 1
    ds.InstanceNumber = 1
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = size
    ds.Columns = size
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.PixelData = pixels(size, size, seed=len(key),
                          big_endian=transfer_syntax == ExplicitVRBigEndian)
    return file_meta(ds, transfer_syntax)


def us_abdomen():
    """A second study of the cd-ct patient (same name, ID and issuer): one abdominal
    ultrasound image, so one patient can carry a CT and a US study."""
    ds = single_image(
        US_IMAGE_STORAGE, "US", "us-abdomen", CD_PATIENT,
        {"StudyDate": "20261103", "StudyTime": "091000", "AccessionNumber": "ACC20261103002",
         "StudyID": "US0043", "ReferringPhysicianName": CD_STUDY["ReferringPhysicianName"],
         "StudyDescription": "腹部超音波", "InstitutionName": CD_STUDY["InstitutionName"],
         "Manufacturer": CD_STUDY["Manufacturer"],
         "ManufacturerModelName": CD_STUDY["ManufacturerModelName"], "StationName": "US01"},
        {"SeriesDescription": "Abdomen", "BodyPartExamined": "ABDOMEN",
         "SeriesDate": "20261103", "SeriesTime": "091200", "ContentDate": "20261103",
         "ContentTime": "091230", "ImageType": ["ORIGINAL", "PRIMARY", "ABDOMINAL"]},
        8, ExplicitVRLittleEndian)
    request = Dataset()
    request.RequestedProcedureID = "RP-0043"
    request.ScheduledProcedureStepID = "SPS-0043"
    ds.RequestAttributesSequence = Sequence([request])
    # Grey-scale ultrasound is usually 8 bits a sample; single_image writes 12 in 16.
    ds.BitsAllocated = 8
    ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelData = bytes((r * 37 + c * 11) % 256 for r in range(8) for c in range(8))
    return ds


def write_single(folder):
    folder.mkdir()
    mr = single_image(
        MR_IMAGE_STORAGE, "MR", "mr-utf8",
        {"SpecificCharacterSet": "ISO_IR 192",
         "PatientName": "Müller-Tanaka^Léa=田中^玲亜=たなか^れあ",
         "PatientID": "TK-000521", "PatientBirthDate": "19910707", "PatientSex": "F"},
        {"StudyDate": "20260915", "StudyTime": "163000", "AccessionNumber": "ACC20260915003",
         "StudyID": "MR0003", "ReferringPhysicianName": "Mori^Kenta=森^健太=もり^けんた",
         "StudyDescription": "MRI 頭部 単純", "InstitutionName": "つなぎ総合病院"},
        {"SeriesDescription": "T2 TSE ax", "BodyPartExamined": "BRAIN",
         "ScanningSequence": "SE", "SequenceVariant": "SK", "ScanOptions": "",
         "MRAcquisitionType": "2D", "EchoTrainLength": "16"},
        8, ExplicitVRLittleEndian)
    mr.save_as(folder / "mr_utf8.dcm", enforce_file_format=True)

    implicit = single_image(
        CT_IMAGE_STORAGE, "CT", "ct-implicit",
        {"SpecificCharacterSet": ["ISO 2022 IR 13", "ISO 2022 IR 87"],
         "PatientName": "ｻｲﾄｳ^ｲﾁﾛｳ=斎藤^一郎=さいとう^いちろう",
         "PatientID": "TK-000633", "PatientBirthDate": "19520111", "PatientSex": "M"},
        {"StudyDate": "20260801", "StudyTime": "112233", "AccessionNumber": "ACC20260801011",
         "StudyID": "CT0011", "ReferringPhysicianName": "", "StudyDescription": "CT 腹部",
         "InstitutionName": "ﾂﾅｷﾞｿｳｺﾞｳﾋﾞｮｳｲﾝ"},
        {"SeriesDescription": "Abdomen 5mm", "BodyPartExamined": "ABDOMEN"},
        8, ImplicitVRLittleEndian)
    implicit.save_as(folder / "ct_implicit_le.dcm", enforce_file_format=True)

    big_endian = single_image(
        CT_IMAGE_STORAGE, "CT", "ct-big-endian",
        {"SpecificCharacterSet": "ISO_IR 100", "PatientName": "Núñez^Sofía",
         "PatientID": "TK-000744", "PatientBirthDate": "19880229", "PatientSex": "F"},
        {"StudyDate": "20260612", "StudyTime": "080910", "AccessionNumber": "ACC20260612002",
         "StudyID": "CT0002", "ReferringPhysicianName": "Lindqvist^Åsa",
         "StudyDescription": "CT Head", "InstitutionName": "Tsunagi General Hospital"},
        {"SeriesDescription": "Head Axial", "BodyPartExamined": "HEAD"},
        8, ExplicitVRBigEndian)
    big_endian.save_as(folder / "ct_explicit_be.dcm", enforce_file_format=True)

    us_abdomen().save_as(folder / "us_abdomen.dcm", enforce_file_format=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, default=HERE,
                        help="folder to write cd-ct/, cd-broken/ and single/ into")
    out = parser.parse_args().out
    writers = {"cd-ct": write_cd_ct, "cd-broken": write_cd_broken, "single": write_single}
    with tempfile.TemporaryDirectory() as scratch:
        scratch = pathlib.Path(scratch)
        for name, write in writers.items():
            write(scratch / name)
        for name in writers:
            shutil.rmtree(out / name, ignore_errors=True)
            shutil.copytree(scratch / name, out / name)
    for name in writers:
        for path in sorted(p for p in (out / name).rglob("*") if p.is_file()):
            print(f"{path.stat().st_size:8d}  {path.relative_to(out)}")


if __name__ == "__main__":
    main()
