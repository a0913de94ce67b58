//! Where DICOM files come from: one file, a folder tree, a DICOMDIR (CD/DVD/USB media: the
//! directory records name the files), or a zip of any of these, on disk or in memory. Each file
//! is handed to the caller as a read header or as a problem with its reason; one bad file never
//! stops the rest. This is the only part of the DICOM adapter that does IO.

use super::dataset::DataSet;
use super::read::{is_part10, read_header, Header, ReadError, ReadLimits};
use dicom_dictionary_std::tags;
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Cursor, Read, Seek};
use std::path::{Path, PathBuf};

/// At most this many unlisted files on DICOMDIR media are named one by one (a viewer folder can
/// hold thousands); the rest are counted in one line.
const MAX_NAMED_UNLISTED: usize = 20;

/// Media Storage Directory Storage: the SOP class of a DICOMDIR.
const DICOMDIR_CLASS: &str = "1.2.840.10008.1.3.10";

/// Bounds on one scan.
#[derive(Debug, Clone, Copy)]
pub struct ScanLimits {
    /// Per-file header limits.
    pub read: ReadLimits,
    /// Most files looked at.
    pub max_files: usize,
    /// Largest zip entry inflated (a zip bomb stops here).
    pub max_zip_entry_bytes: u64,
}

impl Default for ScanLimits {
    fn default() -> Self {
        ScanLimits {
            read: ReadLimits::default(),
            max_files: 200_000,
            max_zip_entry_bytes: 1 << 30,
        }
    }
}

/// What the scan found in one file.
#[derive(Debug)]
pub enum ScanEvent {
    /// A DICOM header (DICOMDIRs are followed, not reported).
    Header {
        /// The file's path relative to the input (`/`-separated).
        file: String,
        /// Its header.
        header: Header,
    },
    /// A file on DICOMDIR media that its DICOMDIR does not list (not read).
    NotReferenced {
        /// The file's path relative to the media root, or a count of further files.
        file: String,
        /// What it is assumed to be.
        reason: String,
    },
    /// A file that is not usable, and why.
    Problem {
        /// The file's path relative to the input, or the input itself.
        file: String,
        /// Why it was skipped.
        reason: String,
    },
}

/// Why a whole input could not be scanned (single files that fail are events, not errors).
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// The path cannot be read.
    #[error("cannot read {path}: {reason}")]
    Io {
        /// The path.
        path: String,
        /// The OS error.
        reason: String,
    },
    /// The zip archive is unreadable as a whole.
    #[error("the zip archive cannot be read: {0}")]
    Zip(String),
    /// More files than the limit.
    #[error("more than {0} files in the input")]
    TooManyFiles(usize),
}

/// Scans a file, folder, DICOMDIR or zip on disk, in a stable order.
pub fn scan_path(
    path: &Path,
    limits: &ScanLimits,
    sink: &mut dyn FnMut(ScanEvent),
) -> Result<(), ScanError> {
    let io = |error: std::io::Error| ScanError::Io {
        path: path.display().to_string(),
        reason: error.to_string(),
    };
    let metadata = std::fs::metadata(path).map_err(io)?;
    if metadata.is_dir() {
        if let Some(dicomdir) = find_case_insensitive(path, "DICOMDIR") {
            return scan_dicomdir_file(&dicomdir, path, limits, sink);
        }
        let files = walk(path, limits.max_files).map_err(io)?;
        for file in files {
            let label = relative_label(path, &file);
            scan_disk_file(&file, label, limits, sink, true);
        }
        return Ok(());
    }
    let mut head = [0u8; 4];
    let got = File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .map_err(io)?;
    if got == 4 && head == *b"PK\x03\x04" {
        let file = File::open(path).map_err(io)?;
        return scan_zip(BufReader::new(file), limits, sink);
    }
    let label = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    let folder = path.parent().unwrap_or(Path::new("."));
    match read_disk_header(path, &limits.read) {
        // A DICOMDIR by any name: follow its records.
        Ok(header) if is_dicomdir(&header) => {
            follow_dicomdir(&header, &label, folder, limits, sink)
        }
        Ok(header) => {
            sink(ScanEvent::Header {
                file: label,
                header,
            });
            Ok(())
        }
        Err(error) => {
            sink(problem(&label, &error));
            Ok(())
        }
    }
}

/// Scans bytes received whole: a zip, or one Part 10 file.
pub fn scan_bytes(
    bytes: &[u8],
    name: &str,
    limits: &ScanLimits,
    sink: &mut dyn FnMut(ScanEvent),
) -> Result<(), ScanError> {
    if bytes.starts_with(b"PK\x03\x04") {
        return scan_zip(Cursor::new(bytes), limits, sink);
    }
    match read_header(Cursor::new(bytes), bytes.len() as u64, &limits.read) {
        Ok(header) => sink(ScanEvent::Header {
            file: name.to_owned(),
            header,
        }),
        Err(error) => sink(problem(name, &error)),
    }
    Ok(())
}

fn problem(file: &str, error: &ReadError) -> ScanEvent {
    ScanEvent::Problem {
        file: file.to_owned(),
        reason: error.to_string(),
    }
}

fn is_dicomdir(header: &Header) -> bool {
    header.meta.media_storage_sop_class == DICOMDIR_CLASS
        || header.dataset.uid(tags::SOP_CLASS_UID).as_deref() == Some(DICOMDIR_CLASS)
}

/// Reads one file from disk. In a folder walk, DICOMDIRs are skipped (their files are walked
/// anyway) and files without the DICM marker are reported as not DICOM.
fn scan_disk_file(
    path: &Path,
    label: String,
    limits: &ScanLimits,
    sink: &mut dyn FnMut(ScanEvent),
    in_walk: bool,
) {
    match read_disk_header(path, &limits.read) {
        Ok(header) if in_walk && is_dicomdir(&header) => {}
        Ok(header) => sink(ScanEvent::Header {
            file: label,
            header,
        }),
        Err(error) => sink(problem(&label, &error)),
    }
}

fn read_disk_header(path: &Path, limits: &ReadLimits) -> Result<Header, ReadError> {
    let unreadable = |error: std::io::Error| ReadError::Truncated {
        detail: format!("cannot read the file: {error}"),
    };
    let file = File::open(path).map_err(unreadable)?;
    let length = file.metadata().map_err(unreadable)?.len();
    read_header(BufReader::with_capacity(16 * 1024, file), length, limits)
}

/// Every regular file under `root`, sorted by path, at most `max` of them.
fn walk(root: &Path, max: usize) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let kind = entry.file_type()?;
            if kind.is_dir() {
                pending.push(entry.path());
            } else if kind.is_file() {
                files.push(entry.path());
                if files.len() > max {
                    return Err(std::io::Error::other(format!("more than {max} files")));
                }
            }
        }
    }
    files.sort();
    Ok(files)
}

fn relative_label(root: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(root).unwrap_or(file);
    relative
        .components()
        .map(|part| part.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// The entry of `dir` named `name` ignoring ASCII case (CD file systems are case-blind, and
/// the copies people make of them are not).
fn find_case_insensitive(dir: &Path, name: &str) -> Option<PathBuf> {
    let exact = dir.join(name);
    if exact.exists() {
        return Some(exact);
    }
    std::fs::read_dir(dir).ok()?.flatten().find_map(|entry| {
        entry
            .file_name()
            .to_string_lossy()
            .eq_ignore_ascii_case(name)
            .then(|| entry.path())
    })
}

/// The Referenced File IDs (0004,1500) of every directory record, as path components, in
/// record order without repeats.
pub fn referenced_files(dicomdir: &DataSet) -> Vec<Vec<String>> {
    let mut seen = std::collections::HashSet::new();
    dicomdir
        .items(tags::DIRECTORY_RECORD_SEQUENCE)
        .iter()
        .filter_map(|record| {
            let parts = record.texts(tags::REFERENCED_FILE_ID);
            (!parts.is_empty() && seen.insert(parts.join("/"))).then_some(parts)
        })
        .collect()
}

fn scan_dicomdir_file(
    dicomdir: &Path,
    root: &Path,
    limits: &ScanLimits,
    sink: &mut dyn FnMut(ScanEvent),
) -> Result<(), ScanError> {
    let label = relative_label(root, dicomdir);
    match read_disk_header(dicomdir, &limits.read) {
        Ok(header) => follow_dicomdir(&header, &label, root, limits, sink),
        Err(error) => {
            sink(problem(&label, &error));
            Ok(())
        }
    }
}

/// Reads the files a DICOMDIR (`label`, read from `root`) lists, and names the files on the
/// media it does not list.
fn follow_dicomdir(
    header: &Header,
    label: &str,
    root: &Path,
    limits: &ScanLimits,
    sink: &mut dyn FnMut(ScanEvent),
) -> Result<(), ScanError> {
    let files = referenced_files(&header.dataset);
    if files.len() > limits.max_files {
        return Err(ScanError::TooManyFiles(limits.max_files));
    }
    let listed: std::collections::HashSet<String> = files
        .iter()
        .map(|parts| parts.join("/").to_ascii_lowercase())
        .collect();
    let on_media = walk(root, limits.max_files).unwrap_or_default();
    let unlisted = on_media
        .iter()
        .map(|file| relative_label(root, file))
        .filter(|name| {
            !listed.contains(&name.to_ascii_lowercase()) && !name.eq_ignore_ascii_case(label)
        });
    report_unlisted(unlisted, label, sink);
    for parts in files {
        let shown = parts.join("/");
        let mut path = Some(root.to_path_buf());
        for part in &parts {
            path = path.and_then(|dir| find_case_insensitive(&dir, part));
        }
        match path {
            Some(path) if path.is_file() => scan_disk_file(&path, shown, limits, sink, false),
            _ => sink(ScanEvent::Problem {
                file: shown,
                reason: format!("{label} lists this file, but it is not on the media"),
            }),
        }
    }
    Ok(())
}

/// Hands one zip entry's header (or why there is none) to `sink`; a DICOMDIR met while taking
/// every entry is skipped.
fn emit(
    sink: &mut dyn FnMut(ScanEvent),
    name: &str,
    result: Result<Header, String>,
    skip_dicomdir: bool,
) {
    match result {
        Ok(header) if skip_dicomdir && is_dicomdir(&header) => {}
        Ok(header) => sink(ScanEvent::Header {
            file: name.to_owned(),
            header,
        }),
        Err(reason) => sink(ScanEvent::Problem {
            file: name.to_owned(),
            reason,
        }),
    }
}

/// Names the first unlisted files and counts the rest.
fn report_unlisted(
    unlisted: impl Iterator<Item = String>,
    dicomdir: &str,
    sink: &mut dyn FnMut(ScanEvent),
) {
    let mut more = 0usize;
    for (index, file) in unlisted.enumerate() {
        if index < MAX_NAMED_UNLISTED {
            sink(ScanEvent::NotReferenced {
                file,
                reason: format!("not listed by {dicomdir}: not read (viewer or autorun file)"),
            });
        } else {
            more += 1;
        }
    }
    if more > 0 {
        sink(ScanEvent::NotReferenced {
            file: format!("{more} more files"),
            reason: format!("not listed by {dicomdir}: not read"),
        });
    }
}

fn scan_zip<R: Read + Seek>(
    reader: R,
    limits: &ScanLimits,
    sink: &mut dyn FnMut(ScanEvent),
) -> Result<(), ScanError> {
    let mut archive =
        zip::ZipArchive::new(reader).map_err(|error| ScanError::Zip(error.to_string()))?;
    if archive.len() > limits.max_files {
        return Err(ScanError::TooManyFiles(limits.max_files));
    }
    // Entry names, lower-cased for the case-blind DICOMDIR lookup.
    let mut names: HashMap<String, usize> = HashMap::new();
    let mut ordered: Vec<(String, usize)> = Vec::new();
    for index in 0..archive.len() {
        let Ok(entry) = archive.by_index_raw(index) else {
            continue;
        };
        if entry.is_dir() {
            continue;
        }
        let Ok(name) = entry.name() else {
            sink(ScanEvent::Problem {
                file: format!("zip entry {}", index + 1),
                reason: "its name is not valid text".into(),
            });
            continue;
        };
        let name = name.replace('\\', "/");
        names.insert(name.to_ascii_lowercase(), index);
        ordered.push((name, index));
    }
    ordered.sort();
    let dicomdir = ordered
        .iter()
        .filter(|(name, _)| {
            name.rsplit('/')
                .next()
                .is_some_and(|base| base.eq_ignore_ascii_case("DICOMDIR"))
        })
        .min_by_key(|(name, _)| name.matches('/').count())
        .cloned();
    let mut read_entry = |index: usize| -> Result<Header, String> {
        let entry = archive.by_index(index).map_err(|error| error.to_string())?;
        if entry.size() > limits.max_zip_entry_bytes {
            return Err(format!(
                "inflates to {} bytes, more than the {} byte limit",
                entry.size(),
                limits.max_zip_entry_bytes
            ));
        }
        let mut bytes = Vec::new();
        entry
            .take(limits.max_zip_entry_bytes)
            .read_to_end(&mut bytes)
            .map_err(|error| format!("cannot be inflated: {error}"))?;
        if !is_part10(&bytes) {
            return Err(ReadError::NotDicom.to_string());
        }
        read_header(Cursor::new(&bytes), bytes.len() as u64, &limits.read)
            .map_err(|error| error.to_string())
    };
    let Some((dicomdir_name, dicomdir_index)) = dicomdir else {
        for (name, index) in &ordered {
            let result = read_entry(*index);
            emit(sink, name, result, true);
        }
        return Ok(());
    };
    let header = match read_entry(dicomdir_index) {
        Ok(header) => header,
        Err(reason) => {
            emit(sink, &dicomdir_name, Err(reason), false);
            return Ok(());
        }
    };
    let base = dicomdir_name
        .rsplit_once('/')
        .map(|(dir, _)| format!("{dir}/"))
        .unwrap_or_default();
    let files = referenced_files(&header.dataset);
    let listed: std::collections::HashSet<String> = files
        .iter()
        .map(|parts| format!("{base}{}", parts.join("/")).to_ascii_lowercase())
        .collect();
    let unlisted = ordered
        .iter()
        .map(|(name, _)| name.clone())
        .filter(|name| !listed.contains(&name.to_ascii_lowercase()) && *name != dicomdir_name);
    report_unlisted(unlisted, &dicomdir_name, sink);
    for parts in files {
        let name = format!("{base}{}", parts.join("/"));
        match names.get(&name.to_ascii_lowercase()) {
            Some(index) => {
                let result = read_entry(*index);
                emit(sink, &name, result, false);
            }
            None => emit(
                sink,
                &name,
                Err(format!(
                    "{dicomdir_name} lists this file, but it is not in the archive"
                )),
                false,
            ),
        }
    }
    Ok(())
}
