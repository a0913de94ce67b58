//! The DICOM adapter's entry points: scan an input, group it, map it, write one transaction
//! Bundle for the whole input with a report that names every file left out and why.

use super::collect::{Collector, FileNote, NoteKind};
use super::instance::Instance;
use super::mapping::{endpoint, map_study, Mapped};
use super::source::{scan_bytes, scan_path, ScanError, ScanEvent, ScanLimits};
use crate::context::SourceContext;
use crate::report::{Conversion, Report, ReportCode};
use serde_json::{json, Value};
use std::path::Path;

/// DICOM conversion settings.
#[derive(Debug, Clone, Default)]
pub struct DicomOptions {
    /// Scan bounds.
    pub limits: ScanLimits,
    /// Base URL of the DICOMweb (WADO-RS) service holding the pixels; when set, every
    /// ImagingStudy names an Endpoint with this address.
    pub dicomweb_base: Option<String>,
}

/// How far a scan has got, for progress displays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Files looked at so far.
    pub files_scanned: usize,
    /// Studies found so far.
    pub studies_found: usize,
}

/// Figures of one conversion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Summary {
    /// Files looked at.
    pub files_scanned: usize,
    /// Files left out (not DICOM, unreadable, missing).
    pub files_skipped: usize,
    /// Studies found.
    pub studies: usize,
    /// Instances in them.
    pub instances: usize,
}

/// A DICOM conversion: the Bundle and report, and the figures.
#[derive(Debug)]
pub struct DicomConversion {
    /// The transaction Bundle and report.
    pub conversion: Conversion,
    /// The figures.
    pub summary: Summary,
}

/// Converts a file, folder, DICOMDIR or zip on disk. `progress` is called after each file.
pub fn convert_path(
    path: &Path,
    ctx: &SourceContext,
    options: &DicomOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<DicomConversion, ScanError> {
    let mut collector = Collector::default();
    scan_path(path, &options.limits, &mut |event| {
        collect(&mut collector, event);
        progress(Progress {
            files_scanned: collector.files_scanned,
            studies_found: collector.study_count(),
        });
    })?;
    Ok(finish(collector, ctx, options))
}

/// Converts bytes received whole: one Part 10 file (`name` labels it in the report) or a zip.
pub fn convert_bytes(
    bytes: &[u8],
    name: &str,
    ctx: &SourceContext,
    options: &DicomOptions,
) -> Result<DicomConversion, ScanError> {
    let mut collector = Collector::default();
    scan_bytes(bytes, name, &options.limits, &mut |event| {
        collect(&mut collector, event)
    })?;
    Ok(finish(collector, ctx, options))
}

fn collect(collector: &mut Collector, event: ScanEvent) {
    match event {
        ScanEvent::Problem { file, reason } => collector.skip(file, reason),
        ScanEvent::NotReferenced { file, reason } => collector.not_referenced(file, reason),
        ScanEvent::Header { file, header } => {
            let media = (
                header.meta.media_storage_sop_class.clone(),
                header.meta.media_storage_sop_instance.clone(),
            );
            match Instance::from_dataset(header.dataset, (&media.0, &media.1), file.clone()) {
                Ok(instance) => collector.add(instance),
                Err(missing) => collector.skip(
                    file,
                    format!("no {}: not an instance of a study", missing.attribute),
                ),
            }
        }
    }
}

fn finish(collector: Collector, ctx: &SourceContext, options: &DicomOptions) -> DicomConversion {
    let (studies, notes, files_scanned) = collector.finish();
    let mut report = Report::new();
    let skipped = |note: &&FileNote| note.kind == NoteKind::Skipped;
    let files_skipped = notes.iter().filter(skipped).count();
    let first_reasons: Vec<String> = notes
        .iter()
        .filter(skipped)
        .take(3)
        .map(|note| format!("{}: {}", note.file, note.reason))
        .collect();
    for FileNote { file, reason, kind } in notes {
        match kind {
            NoteKind::Skipped => report.warning(ReportCode::Invalid, file, reason),
            NoteKind::Disagrees => report.warning(ReportCode::Duplicate, file, reason),
            NoteKind::NotReferenced => report.information(ReportCode::Unmapped, file, reason),
        }
    }
    let mut resources: Vec<Mapped> = Vec::new();
    let endpoint_reference = options.dicomweb_base.as_deref().map(|base| {
        let endpoint = endpoint(base, ctx);
        let reference = json!({ "reference": format!("Endpoint/{}", endpoint.id) });
        resources.push(endpoint);
        reference
    });
    let mut instances = 0;
    for study in &studies {
        instances += study.instance_count();
        resources.extend(map_study(
            study,
            ctx,
            endpoint_reference.as_ref(),
            &mut report,
        ));
    }
    if studies.is_empty() {
        report.error(
            ReportCode::Missing,
            "",
            format!(
                "no DICOM instance found among {files_scanned} file(s){}{}",
                if first_reasons.is_empty() {
                    ""
                } else {
                    " — "
                },
                first_reasons.join("; ")
            ),
        );
    }
    let bundle_json = bundle_json(resources);
    DicomConversion {
        conversion: Conversion {
            bundle_json,
            report,
            source_binary_id: None,
        },
        summary: Summary {
            files_scanned,
            files_skipped,
            studies: studies.len(),
            instances,
        },
    }
}

/// A transaction Bundle that PUTs every resource at its deterministic id. Patients that two
/// studies share are written once.
fn bundle_json(resources: Vec<Mapped>) -> Vec<u8> {
    let mut seen = std::collections::HashSet::new();
    let entries: Vec<Value> = resources
        .into_iter()
        .filter(|mapped| seen.insert((mapped.resource_type, mapped.id.clone())))
        .map(|mapped| {
            json!({
                "fullUrl": format!("urn:uuid:{}", mapped.id),
                "resource": mapped.resource,
                "request": {
                    "method": "PUT",
                    "url": format!("{}/{}", mapped.resource_type, mapped.id)
                }
            })
        })
        .collect();
    let bundle = json!({ "resourceType": "Bundle", "type": "transaction", "entry": entries });
    serde_json::to_vec(&bundle).unwrap_or_default()
}
