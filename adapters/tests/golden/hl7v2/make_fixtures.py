#!/usr/bin/env python3
"""Writes the HL7 v2 golden inputs (*.hl7) of this folder from the messages below.

Every person, number and UID here is made up. Segments end in CR, as HL7 v2 requires.
Messages whose MSH-18 is `~ISO IR87` are written as ISO-2022-JP bytes (JIS X 0208 inside
ESC $ B ... ESC ( B), like SS-MIX2 storage files; all others are ASCII.

Run from this folder: python3 make_fixtures.py
"""

import pathlib


def seg(segment_id, fields):
    """A segment from {field number: value}; gaps become empty fields."""
    last = max(fields) if fields else 0
    parts = [segment_id] + [fields.get(n, "") for n in range(1, last + 1)]
    return "|".join(parts)


def msh(sender, when, message_type, control_id, jis=False):
    text = f"MSH|^~\\&|{sender}|TSUNAGI_HOSP|GW|RCV|{when}||{message_type}|{control_id}|P|2.5"
    if jis:
        text += "||||||~ISO IR87||ISO 2022-1994"
    return text


# The patient, doctor and order shared by the Japanese radiology cases (also used by
# tests/hl7v2_linking.rs): one order followed from request to report.
JP_PID = seg("PID", {1: "0001", 3: "P000123^^^^PI",
                     5: "架空^花子^^^^^L^I~カクウ^ハナコ^^^^^L^P",
                     7: "19800102", 8: "F",
                     11: "^^^^100-0001^JPN^H^東京都千代田区架空町１丁目２番３号",
                     13: "^PRN^PH^^^^^^^^^03-0000-0000"})
JP_PV1 = seg("PV1", {1: "0001", 2: "O", 3: "01^^^^^C", 7: "D0042^医師^次郎^^^^^^^L^^^^^I"})
DOCTOR = "D0042^医師^次郎^^^^^^^L^^^^^I"
DOCTOR_KANA = "^イシ^ジロウ^^^^^^^L^^^^^P"
CT_CODE = "32000000000000000000000000000000^胸部ＣＴ画像検査^JJ1017"
STUDY_UID = "1.2.392.200036.9999.1.20240105.1"

CASES = {}

CASES["omg_o19_jis"] = [
    msh("HIS", "20240105093000", "OMG^O19^OMG_O19", "OMG0001", jis=True),
    JP_PID,
    JP_PV1,
    seg("ORC", {1: "NW", 2: "ORD20240001", 9: "20240105092000", 12: f"{DOCTOR}~{DOCTOR_KANA}"}),
    seg("TQ1", {1: "1", 7: "20240105100000", 9: "R^^HL70485"}),
    seg("OBR", {1: "1", 2: "ORD20240001", 4: CT_CODE, 24: "CT",
                31: "^肺結節の精査"}),
    seg("OBX", {1: "1", 2: "NM", 3: "9N006000000000001^体重^JC10", 5: "52.5",
                6: "kg^kg^ISO+", 11: "F"}),
]

CASES["omi_z23_jis"] = [
    msh("RIS", "20240105103500.1234", "OMI^Z23^OMI_Z23", "OMI0001", jis=True),
    JP_PID,
    JP_PV1,
    seg("ORC", {1: "NW", 2: "ORD20240001", 9: "20240105092000", 12: DOCTOR}),
    seg("TQ1", {1: "1", 9: "R^^HL70485"}),
    seg("OBR", {1: "1", 2: "ORD20240001", 4: CT_CODE, 7: "20240105101500", 16: DOCTOR,
                22: "20240105103000", 25: "F"}),
    seg("IPC", {1: "ACC20240001", 2: "RP0001", 3: STUDY_UID, 4: "SPS0001", 5: "CT^^DCM"}),
    seg("ZE1", {1: "1", 2: "RS", 3: CT_CODE, 6: "NS-01^EM-01",
                7: "T0007^技師^三郎^^^^^^^L^^^^^I"}),
    seg("OBX", {1: "1", 2: "TS", 3: "TM-P1^開始時間^JSHR", 5: "20240105101500", 11: "F"}),
]

CASES["oru_r01_radiology"] = [
    msh("RIS", "20240105150500", "ORU^R01^ORU_R01", "ORU0001", jis=True),
    JP_PID,
    JP_PV1,
    seg("ORC", {1: "RE", 2: "ORD20240001", 3: "RPT20240001"}),
    seg("OBR", {1: "1", 2: "ORD20240001", 3: "RPT20240001", 4: CT_CODE, 7: "20240105101500",
                22: "20240105150000", 24: "CT", 25: "F", 32: "R0099&読影&四郎"}),
    seg("OBX", {1: "1", 2: "ST", 3: "113014^Study Instance UID^DCM", 5: STUDY_UID, 11: "F"}),
    seg("OBX", {1: "2", 2: "TX", 3: "18782-3^Radiology Study observation (findings)^LN",
                5: "右上葉に５ｍｍの結節影を認める。~その他に異常なし。", 11: "F"}),
    seg("OBX", {1: "3", 2: "TX", 3: "19005-8^Radiology Impression^LN",
                5: "右上葉結節。経過観察を推奨。", 11: "F"}),
]

CASES["omi_o23"] = [
    msh("HIS", "20240201081500", "OMI^O23^OMI_O23", "OMI0002"),
    seg("PID", {1: "1", 3: "P000777^^^TSUNAGI_HOSP^MR", 5: "DOE^JANE^Q^^^^L", 7: "19700704",
                8: "F"}),
    seg("PV1", {1: "1", 2: "I", 3: "W5^501^2", 19: "V9000001", 44: "20240131160000"}),
    seg("ORC", {1: "NW", 2: "ORD20240300", 9: "20240201081000",
                12: "D0777^ROE^RICHARD^^^DR^^^^L"}),
    seg("TQ1", {1: "1", 7: "20240202090000", 8: "20240202093000", 9: "S"}),
    seg("OBR", {1: "1", 2: "ORD20240300", 4: "24627-2^CT Chest^LN", 24: "CT",
                31: "R91.1^Solitary pulmonary nodule^I10"}),
    seg("IPC", {1: "ACC20240300", 2: "RP0300", 4: "SPS0300", 5: "CT^Computed Tomography^DCM",
                6: "CTCHEST^CT chest protocol^99PROT"}),
]

CASES["orm_o01_nw"] = [
    msh("HIS", "20240301090000", "ORM^O01^ORM_O01", "ORM0001"),
    seg("PID", {1: "1", 3: "P000888^^^^MR", 5: "ROE^JOHN^^^^^L", 7: "19600229", 8: "M"}),
    seg("PV1", {1: "1", 2: "O", 19: "V9000002"}),
    seg("ORC", {1: "NW", 2: "ORD20240400", 5: "SC", 7: "^^^20240302080000^^R",
                9: "20240301085500", 12: "D0888^SMITH^ANNA^^^DR^^^^L"}),
    seg("OBR", {1: "1", 2: "ORD20240400", 4: "24357-6^Urinalysis macro^LN",
                13: "fasting since midnight", 16: "D0888^SMITH^ANNA^^^DR^^^^L"}),
    seg("NTE", {1: "1", 3: "Collect first morning sample."}),
]

CASES["orm_o01_xo"] = [
    msh("HIS", "20240301100000", "ORM^O01^ORM_O01", "ORM0002"),
    seg("PID", {1: "1", 3: "P000888^^^^MR", 5: "ROE^JOHN^^^^^L", 7: "19600229", 8: "M"}),
    seg("PV1", {1: "1", 2: "O", 19: "V9000002"}),
    seg("ORC", {1: "XO", 2: "ORD20240400", 5: "SC", 7: "^^^20240302080000^^S",
                9: "20240301095500", 12: "D0888^SMITH^ANNA^^^DR^^^^L"}),
    seg("OBR", {1: "1", 2: "ORD20240400", 4: "24356-8^Urinalysis complete^LN",
                16: "D0888^SMITH^ANNA^^^DR^^^^L"}),
]

CASES["orm_o01_ca"] = [
    msh("HIS", "20240301110000", "ORM^O01^ORM_O01", "ORM0003"),
    seg("PID", {1: "1", 3: "P000888^^^^MR", 5: "ROE^JOHN^^^^^L", 7: "19600229", 8: "M"}),
    seg("PV1", {1: "1", 2: "O", 19: "V9000002"}),
    seg("ORC", {1: "CA", 2: "ORD20240400", 5: "CA", 9: "20240301105500",
                12: "D0888^SMITH^ANNA^^^DR^^^^L"}),
    seg("OBR", {1: "1", 2: "ORD20240400", 4: "24356-8^Urinalysis complete^LN"}),
]

CASES["omg_o19_parent_child"] = [
    msh("HIS", "20240110100000", "OMG^O19^OMG_O19", "OMG0002"),
    seg("PID", {1: "1", 3: "P000999^^^^PI", 5: "ROE^MARY^^^^^L", 7: "19900505", 8: "F"}),
    seg("ORC", {1: "NW", 2: "ORD20240500", 9: "20240110095000", 12: "D0999^LEE^KIM^^^^^^^L"}),
    seg("TQ1", {1: "1", 9: "R"}),
    seg("OBR", {1: "1", 2: "ORD20240500", 4: "XR-SET^Plain radiography set^99ORD"}),
    seg("ORC", {1: "PA", 2: "ORD20240500", 9: "20240110095000", 12: "D0999^LEE^KIM^^^^^^^L"}),
    seg("TQ1", {1: "1", 9: "R"}),
    seg("OBR", {1: "1", 2: "ORD20240500", 4: "XR-SET^Plain radiography set^99ORD",
                16: "D0999^LEE^KIM^^^^^^^L"}),
    seg("OBX", {1: "1", 2: "NM", 3: "29463-7^Body weight^LN", 5: "61", 6: "kg^kg^UCUM", 11: "F"}),
    seg("ORC", {1: "CH", 2: "ORD20240501", 8: "ORD20240500", 9: "20240110095000",
                12: "D0999^LEE^KIM^^^^^^^L"}),
    seg("TQ1", {1: "1", 9: "R"}),
    seg("OBR", {1: "1", 2: "ORD20240501", 4: "36554-4^XR Chest PA^LN", 29: "ORD20240500"}),
    seg("ORC", {1: "CH", 2: "ORD20240502", 8: "ORD20240500", 9: "20240110095000",
                12: "D0999^LEE^KIM^^^^^^^L"}),
    seg("TQ1", {1: "1", 9: "R"}),
    seg("OBR", {1: "1", 2: "ORD20240502", 4: "36572-6^XR Chest lateral^LN", 29: "ORD20240500"}),
]

CASES["oru_r01_lab"] = [
    msh("LIS", "20240110120000+0900", "ORU^R01^ORU_R01", "LAB0001"),
    seg("PID", {1: "1", 3: "P000456^^^^MR", 5: "TESTPERSON^ALICE^M^^^^L", 7: "19750315",
                8: "F"}),
    seg("ORC", {1: "RE", 2: "ORD20240100", 3: "LAB20240100"}),
    seg("OBR", {1: "1", 2: "ORD20240100", 3: "LAB20240100",
                4: "24323-8^Comprehensive metabolic panel^LN", 7: "20240110080000",
                22: "20240110113000", 24: "CH", 25: "F"}),
    seg("OBX", {1: "1", 2: "NM", 3: "2345-7^Glucose^LN", 5: "105", 6: "mg/dL^mg/dL^UCUM",
                7: "70-99", 8: "H", 11: "F", 14: "20240110090000"}),
    seg("OBX", {1: "2", 2: "NM", 3: "2823-3^Potassium^LN", 5: "4.20",
                6: "mmol/L^millimole per liter^UCUM", 7: "3.5-5.1", 8: "N", 11: "F"}),
    seg("OBX", {1: "3", 2: "NM", 3: "2885-2^Protein^LN", 5: "7.20", 6: "g/dL^g/dL^ISO+",
                7: "6.5-8.3", 11: "C"}),
    seg("OBX", {1: "4", 2: "SN", 3: "1920-8^AST^LN", 5: "<^10", 6: "U/L^U/L^UCUM",
                7: "<35", 8: "N", 11: "F"}),
    seg("OBX", {1: "5", 2: "SN", 3: "8041-6^Rubella Ab titer^LN", 5: "^1^:^128", 11: "F"}),
    seg("OBX", {1: "6", 2: "SN", 3: "5821-4^WBC urine sediment^LN", 5: "^2^-^5",
                6: "/[HPF]^per high power field^UCUM", 7: ">0", 8: "A", 11: "P"}),
    seg("OBX", {1: "7", 2: "ST", 3: "33882-2^Specimen appearance^LN", 5: "Slightly hemolyzed",
                11: "F"}),
    seg("OBX", {1: "8", 2: "CE", 3: "5196-1^HBsAg^LN", 5: "260385009^Negative^SCT", 8: "N",
                11: "F"}),
    seg("OBX", {1: "9", 2: "CWE", 3: "882-1^ABO and Rh group^LN",
                5: "278149003^Blood group A Rh(D) positive^SCT^A+^A pos^99BB", 11: "F"}),
    seg("OBX", {1: "10", 2: "DT", 3: "8665-2^Last menstrual period^LN", 5: "20231228",
                11: "F"}),
    seg("OBX", {1: "11", 2: "TS", 3: "33882-1^Collection time^99LAB", 5: "20240110075500",
                11: "F"}),
    seg("OBX", {1: "12", 2: "ED", 3: "11502-2^Laboratory report^LN",
                5: "LIS^AP^PDF^Base64^JVBERi0xLjQKJcfsj6IK", 11: "F"}),
    seg("OBX", {1: "13", 2: "NM", 3: "2160-0^Creatinine^LN", 5: "n/a", 6: "mg/dL^mg/dL^UCUM",
                11: "F", 14: "2024011099"}),
    seg("NTE", {1: "1", 3: "Result not available: sample clotted."}),
    seg("OBX", {1: "14", 2: "NM", 3: "718-7^Hemoglobin^LN", 5: "12.5", 6: "g/dL^g/dL^UCUM",
                7: "12.0-15.5", 8: "ZZ", 11: "F"}),
]

CASES["oul_r22"] = [
    msh("LIS", "20240115103000", "OUL^R22^OUL_R22", "OUL0001"),
    seg("PID", {1: "1", 3: "P000321^^^^PI", 5: "ROE^RICHARD^^^^^L", 7: "19550101", 8: "M"}),
    seg("PV1", {1: "1", 2: "O"}),
    seg("SPM", {1: "1", 2: "SP20240115001", 4: "023^Serum^JC10", 17: "20240115083000",
                18: "20240115090000"}),
    seg("OBR", {1: "1", 2: "ORD20240600", 3: "LAB20240600", 4: "E001^Chemistry^99LAB",
                7: "20240115083000", 22: "20240115103000", 25: "F"}),
    seg("ORC", {1: "SC", 2: "ORD20240600", 3: "LAB20240600", 5: "CM"}),
    seg("OBX", {1: "1", 2: "NM", 3: "3A010000002327101^Total protein^JC10", 5: "7.2",
                6: "g/dL^g/dL^UCUM", 7: "6.7-8.3", 11: "F", 14: "20240115083000"}),
    seg("OBX", {1: "2", 2: "NM", 3: "3A015000002327101^Albumin^JC10", 5: "3.1",
                6: "g/dL^g/dL^UCUM", 7: "3.7-5.5", 8: "L", 11: "F", 14: "20240115083000"}),
]

CASES["oml_o21"] = [
    msh("HIS", "20240120140000", "OML^O21^OML_O21", "OML0001"),
    seg("PID", {1: "1", 3: "P000654^^^^MR", 5: "ROE^ALEX^^^^^L", 7: "20010911", 8: "U"}),
    seg("PV1", {1: "1", 2: "E", 19: "V9000003"}),
    seg("ORC", {1: "NW", 2: "ORD20240700", 9: "20240120135500", 12: "D0654^NG^SAM^^^^^^^L"}),
    seg("TQ1", {1: "1", 9: "A"}),
    seg("OBR", {1: "1", 2: "ORD20240700", 4: "58410-2^CBC panel^LN", 7: "20240120140500"}),
    seg("SPM", {1: "1", 2: "SP20240120001", 4: "119297000^Blood specimen^SCT",
                7: "VENIP^Venipuncture^HL70488", 17: "20240120140500"}),
]

CASES["oml_o33"] = [
    msh("HIS", "20240125090000", "OML^O33^OML_O33", "OML0002"),
    seg("PID", {1: "1", 3: "P000987^^^^PI", 5: "ROE^KAI^^^^^L", 7: "19881111", 8: "M"}),
    seg("PV1", {1: "1", 2: "I", 19: "V9000004", 44: "20240120100000"}),
    seg("SPM", {1: "1", 4: "023^Serum^JC10", 17: "20240125083000"}),
    seg("ORC", {1: "NW", 2: "ORD20240800", 9: "20240125085500", 12: "D0987^ITO^KEN^^^^^^^L"}),
    seg("OBR", {1: "1", 2: "ORD20240800", 4: "E002^Biochemistry^99LAB"}),
    seg("OBX", {1: "1", 3: "3A010000002327101^Total protein^JC10", 11: "O"}),
    seg("OBX", {1: "2", 3: "3B035000002327201^AST^JC10", 11: "O"}),
    seg("SPM", {1: "2", 4: "022^Plasma^JC10", 17: "20240125083000"}),
    seg("ORC", {1: "NW", 2: "ORD20240801", 9: "20240125085500", 12: "D0987^ITO^KEN^^^^^^^L"}),
    seg("OBR", {1: "1", 2: "ORD20240801", 4: "E001^Hematology^99LAB"}),
    seg("OBX", {1: "1", 3: "2B0300000022311^PT^JC10", 11: "O"}),
]

ADT_PID = seg("PID", {1: "1", 3: "P000246^^^TSUNAGI_HOSP^MR~123-45-6789^^^^SS",
                      5: "ROE^ROBIN^Q^JR^^^L~ROBBIE^^^^^^N", 7: "19851230", 8: "F",
                      11: "1 Sample Street^Apt 2^Springfield^ST^12345^USA^H",
                      13: "^PRN^PH^^1^555^0100000~^NET^Internet^robin@example.invalid",
                      14: "^WPN^PH^^1^555^0100001", 16: "M"})

CASES["adt_a01"] = [
    msh("ADT", "20240201080000", "ADT^A01^ADT_A01", "ADT0001"),
    seg("EVN", {1: "A01", 2: "20240201075900"}),
    ADT_PID,
    seg("PV1", {1: "1", 2: "I", 3: "W3^301^1^MAIN", 7: "D0246^ATTENDING^AMY^^^DR^^^^L",
                17: "D0247^ADMITTING^AL^^^DR^^^^L", 19: "V9000010", 44: "20240201073000"}),
    seg("NK1", {1: "1", 2: "ROE^SAM", 3: "SPO^Spouse^HL70063"}),
]

CASES["adt_a04"] = [
    msh("ADT", "20240202100000", "ADT^A04^ADT_A04", "ADT0002"),
    seg("EVN", {1: "A04", 2: "20240202095900"}),
    ADT_PID,
    seg("PV1", {1: "1", 2: "O", 3: "OPD1^^^MAIN", 7: "D0246^ATTENDING^AMY^^^DR^^^^L",
                19: "V9000011", 44: "20240202094500"}),
]

CASES["adt_a08"] = [
    msh("ADT", "20240203110000", "ADT^A08^ADT_A08", "ADT0003"),
    seg("EVN", {1: "A08", 2: "20240203105900"}),
    seg("PID", {1: "1", 3: "P000246^^^TSUNAGI_HOSP^MR", 5: "ROE^ROBIN^Q^JR^^^L",
                7: "19851230", 8: "F", 11: "2 Other Road^^Springfield^ST^12345^USA^H",
                16: "M", 29: "20240203101500", 30: "Y"}),
    seg("PV1", {1: "1", 2: "I", 3: "W3^301^1^MAIN", 19: "V9000010", 44: "20240201073000",
                45: "2024020310"}),
]

CASES["adt_a31"] = [
    msh("ADT", "20240204120000", "ADT^A31^ADT_A05", "ADT0004"),
    seg("EVN", {1: "A31", 2: "20240204115900"}),
    seg("PID", {1: "1", 3: "P000246^^^TSUNAGI_HOSP^MR", 5: "ROE^ROBIN^Q^JR^^^L",
                7: "1985123", 8: "X"}),
    seg("PV1", {1: "1", 2: "N"}),
]

CASES["unsupported_rde_o11"] = [
    msh("HIS", "20240205090000", "RDE^O11^RDE_O11", "RDE0001"),
    seg("PID", {1: "1", 3: "P000111^^^^PI", 5: "ROE^TERRY^^^^^L"}),
    seg("ORC", {1: "NW", 2: "RX20240001"}),
    seg("RXE", {2: "100000001^Example tablet 5mg^HOT9", 3: "1"}),
]

CASES["broken_pid3_missing"] = [
    msh("HIS", "20240206090000", "ORM^O01^ORM_O01", "ORM0009"),
    seg("PID", {1: "1", 5: "ROE^PAT^^^^^L", 7: "19990101", 8: "M"}),
    seg("ORC", {1: "NW", 2: "ORD20249999"}),
    seg("OBR", {1: "1", 2: "ORD20249999", 4: "24357-6^Urinalysis macro^LN"}),
]


def main():
    here = pathlib.Path(__file__).resolve().parent
    for name, segments in CASES.items():
        text = "\r".join(segments) + "\r"
        jis = "~ISO IR87" in segments[0]
        data = text.encode("iso2022_jp" if jis else "ascii")
        (here / f"{name}.hl7").write_bytes(data)


if __name__ == "__main__":
    main()
