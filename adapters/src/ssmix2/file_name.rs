//! SS-MIX2 standard-storage file names:
//! `<patientId>_<careDate>_<dataType>_<orderNo>_<timestamp>_<department>_<conditionFlag>`.
//! `careDate` and `department` may be `-` (none). The timestamp has 17 digits
//! (`yyyyMMddHHmmssfff`) and orders the versions of one record; the condition flag tells
//! whether a version is current (1), superseded (2) or deleted (0).

use std::fmt;

/// The state an SS-MIX2 file name gives its message (the last part of the name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Condition {
    /// `0`: the record was deleted; its resources become entered-in-error / revoked.
    Deleted,
    /// `1`: the current version.
    Current,
    /// `2`: an older version, replaced by a newer file of the same record.
    Superseded,
}

impl Condition {
    /// The flag character used in file names.
    pub fn flag(self) -> char {
        match self {
            Condition::Deleted => '0',
            Condition::Current => '1',
            Condition::Superseded => '2',
        }
    }
}

/// A parsed SS-MIX2 file name. Every part is kept as written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FileName {
    /// The patient id (also the folder above the care date).
    pub patient_id: String,
    /// The care date `yyyyMMdd`, or `None` for `-` (data not tied to a date, e.g. ADT-00).
    pub care_date: Option<String>,
    /// The SS-MIX2 data type, e.g. `ADT-00`, `OMG-11`, `OMD`.
    pub data_type: String,
    /// The order number (15 characters by convention; all nines when the data has none).
    pub order_number: String,
    /// The 17-digit version timestamp `yyyyMMddHHmmssfff`.
    pub timestamp: String,
    /// The department code, or `None` for `-`.
    pub department: Option<String>,
    /// Current, superseded or deleted.
    pub condition: Condition,
}

/// Why a file name is not an SS-MIX2 standard-storage name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileNameError {
    /// Not seven `_`-separated parts.
    #[error("expected 7 parts separated by '_', found {0}")]
    PartCount(usize),
    /// A part that must have a value is empty.
    #[error("the {0} part is empty")]
    Empty(&'static str),
    /// A part holds characters that cannot be in it.
    #[error("the {part} part {value:?} has characters outside A-Z, a-z, 0-9, '-' and '.'")]
    Characters {
        /// Which part.
        part: &'static str,
        /// Its text.
        value: String,
    },
    /// The care date is neither `-` nor 8 digits.
    #[error("the care date {0:?} is neither '-' nor 8 digits (yyyyMMdd)")]
    CareDate(String),
    /// The timestamp is not 17 digits.
    #[error("the timestamp {0:?} is not 17 digits (yyyyMMddHHmmssfff)")]
    Timestamp(String),
    /// The condition flag is not 0, 1 or 2.
    #[error("the condition flag {0:?} is not 0 (deleted), 1 (current) or 2 (superseded)")]
    Condition(String),
}

/// Longest file name looked at; real names are about 70 characters.
const MAX_NAME_LEN: usize = 255;

impl FileName {
    /// Parses a file name (without any folder).
    pub fn parse(name: &str) -> Result<FileName, FileNameError> {
        if name.len() > MAX_NAME_LEN {
            return Err(FileNameError::Characters {
                part: "whole",
                value: name.chars().take(32).collect::<String>() + "…",
            });
        }
        let parts: Vec<&str> = name.split('_').collect();
        let [patient_id, care_date, data_type, order_number, timestamp, department, condition] =
            parts[..]
        else {
            return Err(FileNameError::PartCount(parts.len()));
        };
        let patient_id = word("patient id", patient_id)?;
        let data_type = word("data type", data_type)?;
        let order_number = word("order number", order_number)?;
        let care_date = match care_date {
            "-" => None,
            date if date.len() == 8 && date.bytes().all(|b| b.is_ascii_digit()) => {
                Some(date.to_owned())
            }
            other => return Err(FileNameError::CareDate(other.to_owned())),
        };
        if timestamp.len() != 17 || !timestamp.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FileNameError::Timestamp(timestamp.to_owned()));
        }
        let department = match department {
            "-" => None,
            code => Some(word("department", code)?),
        };
        let condition = match condition {
            "0" => Condition::Deleted,
            "1" => Condition::Current,
            "2" => Condition::Superseded,
            other => return Err(FileNameError::Condition(other.to_owned())),
        };
        Ok(FileName {
            patient_id,
            care_date,
            data_type,
            order_number,
            timestamp: timestamp.to_owned(),
            department,
            condition,
        })
    }

    /// The folder names `ID[0:3]` and `ID[3:6]` this patient's files belong under (shorter
    /// ids give shorter names).
    pub fn id_folders(&self) -> (String, String) {
        let chars: Vec<char> = self.patient_id.chars().collect();
        let first: String = chars.iter().take(3).collect();
        let second: String = chars.iter().skip(3).take(3).collect();
        (first, second)
    }

    /// The care-date folder name (`-` when there is none).
    pub fn date_folder(&self) -> &str {
        self.care_date.as_deref().unwrap_or("-")
    }

    /// The path of this file under the storage root:
    /// `ID[0:3]/ID[3:6]/<patientId>/<date or ->/<dataType>/<name>`.
    pub fn storage_path(&self) -> String {
        let (first, second) = self.id_folders();
        format!(
            "{first}/{second}/{}/{}/{}/{self}",
            self.patient_id,
            self.date_folder(),
            self.data_type
        )
    }
}

impl fmt::Display for FileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}_{}_{}_{}_{}_{}_{}",
            self.patient_id,
            self.date_folder(),
            self.data_type,
            self.order_number,
            self.timestamp,
            self.department.as_deref().unwrap_or("-"),
            self.condition.flag()
        )
    }
}

/// A non-empty part of letters, digits, `-` and `.`.
fn word(part: &'static str, value: &str) -> Result<String, FileNameError> {
    if value.is_empty() {
        return Err(FileNameError::Empty(part));
    }
    if !value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    {
        return Err(FileNameError::Characters {
            part,
            value: value.to_owned(),
        });
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sample_name_parses_and_prints_back() {
        let text = "9999013_20111220_OMG-11_2011122000300_20111220224447339_24_1";
        let name = FileName::parse(text).unwrap();
        assert_eq!(name.patient_id, "9999013");
        assert_eq!(name.care_date.as_deref(), Some("20111220"));
        assert_eq!(name.data_type, "OMG-11");
        assert_eq!(name.order_number, "2011122000300");
        assert_eq!(name.department.as_deref(), Some("24"));
        assert_eq!(name.condition, Condition::Current);
        assert_eq!(name.to_string(), text);
        assert_eq!(
            name.storage_path(),
            format!("999/901/9999013/20111220/OMG-11/{text}")
        );
    }

    #[test]
    fn dashes_are_none_and_flags_are_read() {
        let name =
            FileName::parse("0000001_-_ADT-00_999999999999999_20111220224447339_-_0").unwrap();
        assert_eq!(name.care_date, None);
        assert_eq!(name.department, None);
        assert_eq!(name.condition, Condition::Deleted);
        assert_eq!(name.date_folder(), "-");
    }

    #[test]
    fn malformed_names_say_why() {
        assert_eq!(FileName::parse("a_b_c"), Err(FileNameError::PartCount(3)));
        assert_eq!(
            FileName::parse("1_2011_ADT-00_9_20111220224447339_-_1"),
            Err(FileNameError::CareDate("2011".into()))
        );
        assert_eq!(
            FileName::parse("1_-_ADT-00_9_2011122022444733_-_1"),
            Err(FileNameError::Timestamp("2011122022444733".into()))
        );
        assert_eq!(
            FileName::parse("1_-_ADT-00_9_20111220224447339_-_3"),
            Err(FileNameError::Condition("3".into()))
        );
        assert_eq!(
            FileName::parse("_-_ADT-00_9_20111220224447339_-_1"),
            Err(FileNameError::Empty("patient id"))
        );
    }
}
