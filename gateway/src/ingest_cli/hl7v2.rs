//! `--from hl7v2`: files of HL7 v2 messages (one message, several, batches, MLLP frames) as a
//! plan of steps for the engine, one step per file and one unit per message. Folders are read
//! recursively in path order; symbolic links are not followed.

use super::checkpoint::plan_digest;
use super::engine::{ready, Unit, UnitOutcome};
use super::summary::FileIssue;
use std::path::{Path, PathBuf};
use tsunagi_adapters::adapter::{Adapter, Confidence, Hl7v2Adapter};
use tsunagi_adapters::hl7v2::{self, Hl7Options};
use tsunagi_adapters::identity::resource_id;
use tsunagi_adapters::report::Report;
use tsunagi_adapters::SourceContext;

/// Most files listed from the given paths.
const MAX_FILES: usize = 10_000_000;
/// Largest file read.
const MAX_FILE_BYTES: u64 = 256 << 20;

/// Planned HL7 v2 files.
pub struct Hl7v2Source {
    files: Vec<PathBuf>,
    context: SourceContext,
    options: Hl7Options,
    dry_run: bool,
}

impl Hl7v2Source {
    /// Lists the files of `paths` (folders recursively); unreadable entries are warnings.
    pub fn open(
        paths: &[PathBuf],
        context: SourceContext,
        options: Hl7Options,
        dry_run: bool,
    ) -> (Self, Vec<FileIssue>) {
        let mut files = Vec::new();
        let mut warnings = Vec::new();
        for path in paths {
            list(path, &mut files, &mut warnings);
        }
        (
            Hl7v2Source {
                files,
                context,
                options,
                dry_run,
            },
            warnings,
        )
    }

    /// Steps in the plan (one per file).
    pub fn steps(&self) -> usize {
        self.files.len()
    }

    /// The plan's digest for the checkpoint.
    pub fn digest(&self) -> String {
        let names: Vec<String> = self.files.iter().map(|f| f.display().to_string()).collect();
        plan_digest(names.iter().map(String::as_str))
    }

    /// Reads file `index` and converts each of its messages.
    pub fn convert(&self, index: usize) -> Vec<Unit> {
        let Some(path) = self.files.get(index) else {
            return Vec::new();
        };
        let shown = path.display().to_string();
        let bytes = match read(path) {
            Ok(bytes) => bytes,
            Err(error) => {
                return vec![Unit {
                    step: index,
                    path: shown,
                    label: "hl7v2".into(),
                    record: None,
                    own_marker: None,
                    newer_marker: None,
                    deleted: false,
                    outcome: UnitOutcome::Failed {
                        location: String::new(),
                        message: format!("cannot read the file: {error}"),
                    },
                }]
            }
        };
        if Hl7v2Adapter.detect(&bytes) == Confidence::No {
            // Folders hold other files too (READMEs, PDFs): counted, not converted.
            return vec![Unit {
                step: index,
                path: shown,
                label: "not HL7 v2".into(),
                record: None,
                own_marker: None,
                newer_marker: None,
                deleted: false,
                outcome: UnitOutcome::NotMapped(Report::new()),
            }];
        }
        hl7v2::convert_all(&bytes, &self.context, &self.options)
            .into_iter()
            .map(|(raw, result)| Unit {
                step: index,
                path: format!("{shown} (message {})", raw.ordinal),
                label: message_type(raw.bytes),
                record: None,
                own_marker: Some(resource_id(
                    &self.context.institution,
                    "Binary",
                    &hl7v2::source_record_key(raw.bytes),
                )),
                newer_marker: None,
                deleted: false,
                outcome: match result {
                    Ok(conversion) => ready(conversion, self.dry_run),
                    Err(error) => UnitOutcome::Failed {
                        location: error
                            .location()
                            .map(|location| location.to_string())
                            .unwrap_or_default(),
                        message: error.to_string(),
                    },
                },
            })
            .collect()
    }
}

/// MSH-9.1^MSH-9.2 read from the raw bytes (ASCII in every character set), or `hl7v2`.
fn message_type(raw: &[u8]) -> String {
    let start = raw
        .windows(3)
        .position(|window| window == b"MSH")
        .unwrap_or(raw.len());
    let header = &raw[start..];
    let line_end = header
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .unwrap_or(header.len());
    let header = &header[..line_end];
    let Some(&separator) = header.get(3) else {
        return "hl7v2".into();
    };
    let field = header.split(|&b| b == separator).nth(8).unwrap_or_default();
    let parts: Vec<&[u8]> = field.split(|&b| b == b'^').take(2).collect();
    let text: Vec<String> = parts
        .iter()
        .map(|part| String::from_utf8_lossy(part).trim().to_owned())
        .filter(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric()))
        .collect();
    if text.is_empty() {
        "hl7v2".into()
    } else {
        text.join("^")
    }
}

fn read(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(std::io::Error::other(format!(
            "larger than {MAX_FILE_BYTES} bytes: not read"
        )));
    }
    Ok(bytes)
}

fn list(path: &Path, files: &mut Vec<PathBuf>, warnings: &mut Vec<FileIssue>) {
    let mut warn = |path: &Path, message: String| {
        warnings.push(FileIssue {
            path: path.display().to_string(),
            location: String::new(),
            message,
        })
    };
    let metadata = match std::fs::symlink_metadata(path) {
        Ok(metadata) => metadata,
        Err(error) => return warn(path, error.to_string()),
    };
    if metadata.is_file() {
        if files.len() < MAX_FILES {
            files.push(path.to_path_buf());
        } else {
            warn(path, format!("more than {MAX_FILES} files: not read"));
        }
        return;
    }
    if !metadata.is_dir() {
        return warn(
            path,
            "not a regular file (symbolic links are not followed)".into(),
        );
    }
    let mut entries: Vec<PathBuf> = match std::fs::read_dir(path) {
        Ok(entries) => entries.filter_map(Result::ok).map(|e| e.path()).collect(),
        Err(error) => return warn(path, error.to_string()),
    };
    entries.sort();
    for entry in entries {
        list(&entry, files, warnings);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_types_are_read_from_raw_bytes() {
        assert_eq!(
            message_type(b"MSH|^~\\&|A|B|C|D|2024||ADT^A08^ADT_A01|1|P|2.5\r"),
            "ADT^A08"
        );
        assert_eq!(
            message_type(b"\x0bMSH|^~\\&|||||||OMI^Z23|1\rPID"),
            "OMI^Z23"
        );
        assert_eq!(message_type(b"PID|1"), "hl7v2");
        assert_eq!(message_type(b"MSH|^~\\&|\r"), "hl7v2");
    }
}
