"""Writes a folder of N (default 2000) DICOM files that look like a PACS export: CT and MR
studies of a few series each, made-up patients with Japanese (ISO 2022 IR 87 or UTF-8) and
Latin names, full-size headers (the attributes a modality writes, with sequences) and 16x16
pixels. The same N always gives the same files. Needs pydicom on PYTHONPATH (run.sh sets it).

Usage: make_folder.py DIR [N]   (DIR must not exist yet)
Layout: DIR/<patient id>/ST<study>/SE<series>/IM<instance>.dcm
"""

import pathlib
import random
import struct
import sys
import uuid

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

# A made-up namespace for the benchmark UIDs (2.25.<UUIDv5>).
UID_NAMESPACE = uuid.UUID("3f0b8a6e-8c1e-4a57-9d0b-52c1d9e7a0f4")

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
MR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.4"

# Common family and given names, combined at random: nobody in particular.
JAPANESE_FAMILY = [("Sato", "佐藤", "さとう"), ("Suzuki", "鈴木", "すずき"),
                   ("Takahashi", "高橋", "たかはし"), ("Tanaka", "田中", "たなか"),
                   ("Ito", "伊藤", "いとう"), ("Watanabe", "渡辺", "わたなべ"),
                   ("Yamamoto", "山本", "やまもと"), ("Nakamura", "中村", "なかむら"),
                   ("Kobayashi", "小林", "こばやし"), ("Kato", "加藤", "かとう")]
JAPANESE_GIVEN = [("Haruto", "陽翔", "はると"), ("Yui", "結衣", "ゆい"),
                  ("Sota", "蒼太", "そうた"), ("Mio", "美緒", "みお"), ("Ren", "蓮", "れん"),
                  ("Aoi", "葵", "あおい"), ("Kaito", "海斗", "かいと"),
                  ("Sakura", "桜", "さくら")]
LATIN_FAMILY = ["Smith", "García", "Müller", "Rossi", "Dubois", "Novak", "Silva", "Nguyen"]
LATIN_GIVEN = ["Anna", "José", "Lukas", "Chloé", "Marco", "Eva", "Liam", "Zoë"]

# (study description, its Latin-1 form, body part, series descriptions)
CT_PROTOCOLS = [("CT 胸部単純", "CT Chest", "CHEST", ["Scout", "Chest Axial 5.0", "Lung 1.0",
                                                  "Coronal MPR"]),
                ("CT 腹部造影", "CT Abdomen CE", "ABDOMEN", ["Scout", "Abdomen Plain",
                                                          "Arterial", "Portal"]),
                ("CT Head", "CT Head", "HEAD", ["Scout", "Head Axial 5.0", "Bone 2.0"])]
MR_PROTOCOLS = [("MRI 頭部 単純", "MRI Brain", "BRAIN", ["Localizer", "T1 SE ax", "T2 TSE ax",
                                                     "FLAIR ax", "DWI"]),
                ("MRI Lumbar spine", "MRI Lumbar spine", "LSPINE", ["Localizer", "T2 sag",
                                                                    "T1 sag", "T2 ax"]),
                ("MRI 膝 右", "MRI Knee R", "KNEE", ["Localizer", "PD FS cor", "PD sag",
                                                  "T2* ax"])]


def uid(name):
    return f"2.25.{uuid.uuid5(UID_NAMESPACE, name).int}"


def code(value, scheme, meaning):
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = scheme
    item.CodeMeaning = meaning
    return item


def make_patients(rng, count):
    patients = []
    for number in range(count):
        patient = {"PatientID": f"BM-{number:06d}",
                   "PatientBirthDate": f"{rng.randint(1930, 2015)}{rng.randint(1, 12):02d}"
                                       f"{rng.randint(1, 28):02d}",
                   "PatientSex": rng.choice("FM")}
        if rng.random() < 0.7:
            family, given = rng.choice(JAPANESE_FAMILY), rng.choice(JAPANESE_GIVEN)
            patient["PatientName"] = "=".join(f"{f}^{g}" for f, g in zip(family, given))
            patient["SpecificCharacterSet"] = (
                ["", "ISO 2022 IR 87"] if rng.random() < 0.7 else "ISO_IR 192")
        else:
            patient["PatientName"] = f"{rng.choice(LATIN_FAMILY)}^{rng.choice(LATIN_GIVEN)}"
            patient["SpecificCharacterSet"] = "ISO_IR 100" if rng.random() < 0.6 else "ISO_IR 192"
        patients.append(patient)
    return patients


def study_dataset(rng, patient, study_number, modality):
    ds = Dataset()
    for keyword, value in patient.items():
        setattr(ds, keyword, value)
    description, latin_description, body_part, series_names = rng.choice(
        CT_PROTOCOLS if modality == "CT" else MR_PROTOCOLS)
    # Japanese text where the character set can hold it (not in ISO_IR 100 files).
    japanese = patient["SpecificCharacterSet"] != "ISO_IR 100"
    if not japanese:
        description = latin_description
    month, day = rng.randint(1, 12), rng.randint(1, 28)
    hour, minute = rng.randint(8, 18), rng.randint(0, 59)
    ds.StudyInstanceUID = uid(f"study/{study_number}")
    ds.StudyDate = f"2026{month:02d}{day:02d}"
    ds.StudyTime = f"{hour:02d}{minute:02d}00"
    ds.AccessionNumber = f"ACC2026{study_number:07d}"
    ds.StudyID = f"{study_number}"
    ds.ReferringPhysicianName = "Mori^Kenta=森^健太=もり^けんた" if japanese else "Mori^Kenta"
    ds.StudyDescription = description
    ds.ProcedureCodeSequence = Sequence([code(f"P{study_number % 50:03d}", "99LOCAL",
                                              description)])
    ds.InstitutionName = "つなぎ総合病院" if japanese else "Tsunagi General Hospital"
    ds.InstitutionAddress = "東京都千代田区架空町1-2-3" if japanese else "1-2-3 Kaku-cho, Tokyo"
    ds.Manufacturer = "TSUNAGI BENCH"
    ds.ManufacturerModelName = "make_folder.py"
    ds.StationName = f"{modality}0{rng.randint(1, 3)}"
    ds.DeviceSerialNumber = "0000417"
    ds.SoftwareVersions = "1.0"
    ds.PatientAge = f"{2026 - int(patient['PatientBirthDate'][:4]):03d}Y"
    ds.PatientWeight = f"{rng.randint(40, 95)}"
    ds.PatientSize = f"1.{rng.randint(45, 90)}"
    ds.BodyPartExamined = body_part
    ds.PatientPosition = "HFS"
    request = Dataset()
    request.RequestedProcedureID = f"RP{study_number}"
    request.ScheduledProcedureStepID = f"SPS{study_number}"
    request.RequestedProcedureDescription = description
    ds.RequestAttributesSequence = Sequence([request])
    return ds, series_names


def set_modality_attributes(ds, modality, rng):
    if modality == "CT":
        ds.SOPClassUID = CT_IMAGE_STORAGE
        ds.KVP = "120"
        ds.DataCollectionDiameter = "500"
        ds.ReconstructionDiameter = "360"
        ds.GantryDetectorTilt = "0"
        ds.TableHeight = "150"
        ds.RotationDirection = "CW"
        ds.ExposureTime = "500"
        ds.XRayTubeCurrent = f"{rng.randint(80, 400)}"
        ds.Exposure = f"{rng.randint(20, 200)}"
        ds.FilterType = "BODY"
        ds.ConvolutionKernel = "FC13"
        ds.RescaleIntercept = "-1024"
        ds.RescaleSlope = "1"
        ds.RescaleType = "HU"
        ds.WindowCenter = "40"
        ds.WindowWidth = "400"
    else:
        ds.SOPClassUID = MR_IMAGE_STORAGE
        ds.ScanningSequence = "SE"
        ds.SequenceVariant = "SK"
        ds.ScanOptions = ""
        ds.MRAcquisitionType = "2D"
        ds.RepetitionTime = f"{rng.randint(400, 6000)}"
        ds.EchoTime = f"{rng.randint(10, 120)}"
        ds.EchoTrainLength = "16"
        ds.MagneticFieldStrength = "1.5"
        ds.ImagingFrequency = "63.87"
        ds.ImagedNucleus = "1H"
        ds.NumberOfAverages = "2"
        ds.FlipAngle = "90"
        ds.WindowCenter = "600"
        ds.WindowWidth = "1200"


def write_study(folder, rng, patient, study_number, modality, budget):
    """Writes one study of at most `budget` files; returns how many it wrote."""
    ds, series_names = study_dataset(rng, patient, study_number, modality)
    set_modality_attributes(ds, modality, rng)
    ds.Modality = modality
    ds.FrameOfReferenceUID = uid(f"study/{study_number}/frame")
    ds.PositionReferenceIndicator = ""
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = 16
    ds.Columns = 16
    ds.PixelSpacing = ["0.7", "0.7"]
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.LossyImageCompression = "00"
    # Some archives still export Implicit VR Little Endian.
    transfer_syntax = ImplicitVRLittleEndian if study_number % 5 == 0 else ExplicitVRLittleEndian
    written = 0
    for series_number, series_name in enumerate(series_names, start=1):
        if written >= budget:
            break
        count = 1 if series_number == 1 else rng.randint(5, 40)
        count = min(count, budget - written)
        ds.SeriesInstanceUID = uid(f"study/{study_number}/series/{series_number}")
        ds.SeriesNumber = series_number
        ds.SeriesDate = ds.StudyDate
        ds.SeriesTime = ds.StudyTime
        ds.SeriesDescription = series_name
        ds.ProtocolName = series_name
        ds.ImageType = ["ORIGINAL", "PRIMARY", "LOCALIZER" if series_number == 1 else "AXIAL"]
        ds.SliceThickness = rng.choice(["1.0", "2.0", "5.0"])
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        series_folder = (folder / patient["PatientID"] / f"ST{study_number:05d}"
                         / f"SE{series_number:03d}")
        series_folder.mkdir(parents=True)
        for instance_number in range(1, count + 1):
            sop_instance_uid = uid(
                f"study/{study_number}/series/{series_number}/{instance_number}")
            ds.SOPInstanceUID = sop_instance_uid
            ds.InstanceNumber = instance_number
            ds.AcquisitionNumber = 1
            ds.ContentDate = ds.StudyDate
            ds.ContentTime = ds.StudyTime
            ds.ImagePositionPatient = [-180, -180, -5 * instance_number]
            ds.SliceLocation = f"{-5 * instance_number}"
            referenced = Dataset()
            referenced.ReferencedSOPClassUID = ds.SOPClassUID
            referenced.ReferencedSOPInstanceUID = uid(f"study/{study_number}/series/1/1")
            ds.ReferencedImageSequence = Sequence([referenced])
            values = [(instance_number * 31 + r * 16 + c) % 4096
                      for r in range(16) for c in range(16)]
            ds.PixelData = struct.pack("<256H", *values)
            meta = FileMetaDataset()
            meta.MediaStorageSOPClassUID = ds.SOPClassUID
            meta.MediaStorageSOPInstanceUID = sop_instance_uid
            meta.TransferSyntaxUID = transfer_syntax
            ds.file_meta = meta
            ds.save_as(series_folder / f"IM{instance_number:04d}.dcm", enforce_file_format=True)
            written += 1
    return written


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    folder = pathlib.Path(sys.argv[1])
    total = int(sys.argv[2]) if len(sys.argv) == 3 else 2000
    folder.mkdir(parents=True)
    rng = random.Random(total)
    patients = make_patients(rng, max(1, total // 60))
    written = 0
    study_number = 0
    while written < total:
        study_number += 1
        written += write_study(folder, rng, rng.choice(patients), study_number,
                               rng.choice(["CT", "MR"]), total - written)
    print(f"wrote {written} files, {study_number} studies, {len(patients)} patients into {folder}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
