//! What one file contributes: its patient, study, series and instance attributes, pulled out
//! of the header right after reading so that only these small summaries are kept in memory
//! (a CD of 10,000 instances holds 10,000 of these, never 10,000 data sets).

use super::dataset::DataSet;
use super::person_name::PersonName;
use dicom_dictionary_std::tags;

/// A coded entry from a DICOM code sequence item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeItem {
    /// (0008,0100) Code Value, (0008,0119) Long Code Value or (0008,0120) URN Code Value.
    pub value: String,
    /// (0008,0102) Coding Scheme Designator.
    pub scheme: String,
    /// (0008,0104) Code Meaning.
    pub meaning: Option<String>,
}

impl CodeItem {
    /// The code of one code sequence item, if it has a value.
    pub fn of(item: &DataSet) -> Option<CodeItem> {
        let value = item
            .text(tags::CODE_VALUE)
            .or_else(|| item.text(tags::LONG_CODE_VALUE))
            .or_else(|| item.text(tags::URN_CODE_VALUE))?;
        Some(CodeItem {
            value,
            scheme: item
                .text(tags::CODING_SCHEME_DESIGNATOR)
                .unwrap_or_default(),
            meaning: item.text(tags::CODE_MEANING),
        })
    }

    /// Every coded item of a code sequence.
    pub fn all(set: &DataSet, sequence: dicom_core::Tag) -> Vec<CodeItem> {
        set.items(sequence)
            .iter()
            .filter_map(CodeItem::of)
            .collect()
    }
}

/// Patient attributes (module C.7.1.1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PatientInfo {
    /// (0010,0020) Patient ID.
    pub id: Option<String>,
    /// (0010,0021) Issuer of Patient ID.
    pub issuer: Option<String>,
    /// (0010,0010) Patient's Name.
    pub name: Option<PersonName>,
    /// (0010,0030) Patient's Birth Date (DICOM DA text).
    pub birth_date: Option<String>,
    /// (0010,0040) Patient's Sex.
    pub sex: Option<String>,
    /// (0008,0005) as written, when the file declares one.
    pub specific_character_set: Option<String>,
}

/// Study attributes (module C.7.2.1) and the request they fulfil.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StudyInfo {
    /// (0020,000D) Study Instance UID.
    pub uid: String,
    /// (0008,0020) Study Date.
    pub date: Option<String>,
    /// (0008,0030) Study Time.
    pub time: Option<String>,
    /// (0008,0201) Timezone Offset From UTC.
    pub timezone_offset: Option<String>,
    /// (0008,0050) Accession Number.
    pub accession: Option<String>,
    /// (0008,0051) Issuer of Accession Number: its Universal Entity ID when ISO, else its
    /// Local Namespace Entity ID.
    pub accession_issuer: Option<AccessionIssuer>,
    /// (0008,1030) Study Description.
    pub description: Option<String>,
    /// (0008,0090) Referring Physician's Name.
    pub referrer: Option<PersonName>,
    /// (0020,0010) Study ID.
    pub study_id: Option<String>,
    /// (0008,1032) Procedure Code Sequence, else (0032,1064) Requested Procedure Code Sequence.
    pub procedure_codes: Vec<CodeItem>,
    /// (0040,100A) Reason for Requested Procedure Code Sequence.
    pub reason_codes: Vec<CodeItem>,
    /// (0040,1002) Reason for the Requested Procedure, else (0032,1030) Reason for Study.
    pub reason_text: Option<String>,
    /// (0040,2016) Placer Order Number / Imaging Service Request, top level or in the Request
    /// Attributes Sequence (0040,0275) or the SR's Referenced Request Sequence (0040,A370).
    pub placer_order: Option<String>,
    /// (0008,0080) Institution Name.
    pub institution: Option<String>,
}

/// An ISO OID or local namespace that issued the accession number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessionIssuer {
    /// (0040,0032) Universal Entity ID with (0040,0033) type ISO: an OID.
    Oid(String),
    /// (0040,0031) Local Namespace Entity ID (or a non-ISO universal id).
    Local(String),
}

/// Series attributes (module C.7.3.1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SeriesInfo {
    /// (0020,000E) Series Instance UID.
    pub uid: String,
    /// (0020,0011) Series Number.
    pub number: Option<i64>,
    /// (0008,0060) Modality.
    pub modality: Option<String>,
    /// (0008,103E) Series Description.
    pub description: Option<String>,
    /// (0018,0015) Body Part Examined.
    pub body_part: Option<String>,
    /// (0020,0060) Laterality.
    pub laterality: Option<String>,
    /// (0008,0021) Series Date.
    pub date: Option<String>,
    /// (0008,0031) Series Time.
    pub time: Option<String>,
}

/// Instance attributes (module C.12.1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InstanceInfo {
    /// (0008,0018) SOP Instance UID.
    pub uid: String,
    /// (0008,0016) SOP Class UID.
    pub sop_class: String,
    /// (0020,0013) Instance Number.
    pub number: Option<i64>,
    /// A title: (0042,0010) Document Title, else the SR document title's Code Meaning.
    pub title: Option<String>,
    /// Where the instance was read from.
    pub file: String,
}

/// Everything one file contributes.
#[derive(Debug, Clone)]
pub struct Instance {
    /// Patient attributes.
    pub patient: PatientInfo,
    /// Study attributes.
    pub study: StudyInfo,
    /// Series attributes.
    pub series: SeriesInfo,
    /// Instance attributes.
    pub instance: InstanceInfo,
    /// The whole data set, kept only for reports (SR and encapsulated documents).
    pub report: Option<DataSet>,
}

/// Why a file's header does not make an instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingKey {
    /// The attribute that is missing, e.g. `(0020,000D) Study Instance UID`.
    pub attribute: &'static str,
}

/// SOP classes whose data set is kept to make a DiagnosticReport.
pub fn is_report_class(sop_class: &str) -> bool {
    sop_class.starts_with("1.2.840.10008.5.1.4.1.1.88.") || sop_class == ENCAPSULATED_PDF
}

/// (0032,1030) Reason for Study: retired, but older modalities still write it.
const REASON_FOR_STUDY: dicom_core::Tag = dicom_core::Tag(0x0032, 0x1030);

/// Encapsulated PDF Storage.
pub const ENCAPSULATED_PDF: &str = "1.2.840.10008.5.1.4.1.1.104.1";

impl Instance {
    /// Pulls the summary out of a file's data set. `media_sop` are the file meta's SOP class and
    /// instance UIDs, used when the data set lacks its own.
    pub fn from_dataset(
        set: DataSet,
        media_sop: (&str, &str),
        file: String,
    ) -> Result<Instance, MissingKey> {
        let study_uid = set.uid(tags::STUDY_INSTANCE_UID).ok_or(MissingKey {
            attribute: "(0020,000D) Study Instance UID",
        })?;
        let series_uid = set.uid(tags::SERIES_INSTANCE_UID).ok_or(MissingKey {
            attribute: "(0020,000E) Series Instance UID",
        })?;
        let uid = set
            .uid(tags::SOP_INSTANCE_UID)
            .or_else(|| non_empty(media_sop.1))
            .ok_or(MissingKey {
                attribute: "(0008,0018) SOP Instance UID",
            })?;
        let sop_class = set
            .uid(tags::SOP_CLASS_UID)
            .or_else(|| non_empty(media_sop.0))
            .ok_or(MissingKey {
                attribute: "(0008,0016) SOP Class UID",
            })?;
        // Images name their request in the Request Attributes Sequence, SR documents in the
        // Referenced Request Sequence.
        let request = set
            .item(tags::REQUEST_ATTRIBUTES_SEQUENCE)
            .or_else(|| set.item(tags::REFERENCED_REQUEST_SEQUENCE));
        let from_request = |tag| request.and_then(|item| item.text(tag));
        let procedure_codes = {
            let performed = CodeItem::all(&set, tags::PROCEDURE_CODE_SEQUENCE);
            if performed.is_empty() {
                CodeItem::all(&set, tags::REQUESTED_PROCEDURE_CODE_SEQUENCE)
            } else {
                performed
            }
        };
        let title = set.text(tags::DOCUMENT_TITLE).or_else(|| {
            set.item(tags::CONCEPT_NAME_CODE_SEQUENCE)
                .and_then(|item| item.text(tags::CODE_MEANING))
        });
        let study = StudyInfo {
            uid: study_uid,
            date: set.text(tags::STUDY_DATE),
            time: set.text(tags::STUDY_TIME),
            timezone_offset: set.text(tags::TIMEZONE_OFFSET_FROM_UTC),
            accession: set
                .text(tags::ACCESSION_NUMBER)
                .or_else(|| from_request(tags::ACCESSION_NUMBER)),
            accession_issuer: set
                .item(tags::ISSUER_OF_ACCESSION_NUMBER_SEQUENCE)
                .and_then(accession_issuer),
            description: set.text(tags::STUDY_DESCRIPTION),
            referrer: set.person_name(tags::REFERRING_PHYSICIAN_NAME),
            study_id: set.text(tags::STUDY_ID),
            procedure_codes,
            reason_codes: request
                .map(|item| CodeItem::all(item, tags::REASON_FOR_REQUESTED_PROCEDURE_CODE_SEQUENCE))
                .unwrap_or_default(),
            reason_text: set
                .text(tags::REASON_FOR_THE_REQUESTED_PROCEDURE)
                .or_else(|| from_request(tags::REASON_FOR_THE_REQUESTED_PROCEDURE))
                .or_else(|| set.text(REASON_FOR_STUDY)),
            placer_order: set
                .text(tags::PLACER_ORDER_NUMBER_IMAGING_SERVICE_REQUEST)
                .or_else(|| from_request(tags::PLACER_ORDER_NUMBER_IMAGING_SERVICE_REQUEST)),
            institution: set.text(tags::INSTITUTION_NAME),
        };
        let patient = PatientInfo {
            id: set.text(tags::PATIENT_ID),
            issuer: set.text(tags::ISSUER_OF_PATIENT_ID),
            name: set.person_name(tags::PATIENT_NAME),
            birth_date: set.text(tags::PATIENT_BIRTH_DATE),
            sex: set.text(tags::PATIENT_SEX),
            specific_character_set: set.text(tags::SPECIFIC_CHARACTER_SET),
        };
        let series = SeriesInfo {
            uid: series_uid,
            number: set.int(tags::SERIES_NUMBER),
            modality: set.text(tags::MODALITY),
            description: set.text(tags::SERIES_DESCRIPTION),
            body_part: set.text(tags::BODY_PART_EXAMINED),
            laterality: set
                .text(tags::LATERALITY)
                .or_else(|| set.text(tags::IMAGE_LATERALITY)),
            date: set.text(tags::SERIES_DATE),
            time: set.text(tags::SERIES_TIME),
        };
        let report = is_report_class(&sop_class);
        let instance = InstanceInfo {
            uid,
            number: set.int(tags::INSTANCE_NUMBER),
            title,
            sop_class,
            file,
        };
        Ok(Instance {
            patient,
            study,
            series,
            instance,
            report: report.then_some(set),
        })
    }
}

fn non_empty(text: &str) -> Option<String> {
    let text = text.trim_matches([' ', '\0']);
    (!text.is_empty()).then(|| text.to_owned())
}

fn accession_issuer(item: &DataSet) -> Option<AccessionIssuer> {
    let universal = item.text(tags::UNIVERSAL_ENTITY_ID);
    let iso = item
        .text(tags::UNIVERSAL_ENTITY_ID_TYPE)
        .is_some_and(|kind| kind == "ISO");
    match universal {
        Some(oid) if iso => Some(AccessionIssuer::Oid(oid)),
        Some(other) => Some(AccessionIssuer::Local(other)),
        None => item
            .text(tags::LOCAL_NAMESPACE_ENTITY_ID)
            .map(AccessionIssuer::Local),
    }
}
