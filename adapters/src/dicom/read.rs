//! Reads a DICOM Part 10 header: the 128-byte preamble and `DICM`, the file meta group (parsed
//! here: it is always Explicit VR Little Endian and often incomplete), then the data set through
//! dicom-rs' token reader with raw values, stopping before the top-level Pixel Data so pixels
//! are never read. Every length is checked against the bytes the input can still hold before
//! anything is allocated for it.

use super::charset::CharacterSets;
use super::dataset::{DataSet, Element, ElementValue};
use dicom_core::{Tag, VR};
use dicom_encoding::transfer_syntax::TransferSyntaxIndex;
use dicom_parser::dataset::read::{DataSetReaderOptions, ValueReadStrategy};
use dicom_parser::dataset::{DataSetReader, DataToken};
use dicom_transfer_syntax_registry::TransferSyntaxRegistry;
use std::io::{BufRead, Read};

/// (7FE0,0010) Pixel Data, and the other bulk pixel elements reading stops at.
const PIXEL_TAGS: [Tag; 3] = [
    Tag(0x7FE0, 0x0010),
    Tag(0x7FE0, 0x0008),
    Tag(0x7FE0, 0x0009),
];
/// (0008,0005) Specific Character Set.
const SPECIFIC_CHARACTER_SET: Tag = Tag(0x0008, 0x0005);
/// Deflated Explicit VR Little Endian.
const DEFLATED: &str = "1.2.840.10008.1.2.1.99";

/// Implicit VR Little Endian.
const IMPLICIT_LITTLE: &str = "1.2.840.10008.1.2";
/// Explicit VR Big Endian (retired).
const EXPLICIT_BIG: &str = "1.2.840.10008.1.2.2";

/// True when the meta declares a syntax whose data set is Explicit VR Little Endian (the
/// native one and every compressed one) but the first data set element has no VR where one must
/// be: some writers do this, and pydicom reads such files as Implicit VR.
fn declares_implicit_wrongly(transfer_syntax: &str, first_element: &[u8]) -> bool {
    if matches!(transfer_syntax, IMPLICIT_LITTLE | EXPLICIT_BIG | DEFLATED) {
        return false;
    }
    match first_element.get(4..6) {
        Some(vr) => {
            !(vr.iter().all(u8::is_ascii_uppercase) && VR::from_binary([vr[0], vr[1]]).is_some())
        }
        None => false,
    }
}

/// Bounds on what one file may make the reader hold.
#[derive(Debug, Clone, Copy)]
pub struct ReadLimits {
    /// Largest single element value kept (an encapsulated PDF is one element).
    pub max_element_bytes: u32,
    /// Deepest sequence nesting.
    pub max_depth: usize,
    /// Most elements in one file, nested ones included.
    pub max_elements: usize,
}

impl Default for ReadLimits {
    fn default() -> Self {
        ReadLimits {
            max_element_bytes: 64 << 20,
            max_depth: 32,
            max_elements: 200_000,
        }
    }
}

/// Why a file's header could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// No `DICM` at byte 128 (or 0): not a DICOM Part 10 file.
    #[error("not a DICOM Part 10 file (no DICM marker after the 128-byte preamble)")]
    NotDicom,
    /// The input ended inside the header.
    #[error("the file ends inside its header ({detail})")]
    Truncated {
        /// Where it ended.
        detail: String,
    },
    /// The file meta group or the data set is malformed.
    #[error("malformed header: {detail}")]
    Malformed {
        /// What was wrong, with the tag when known.
        detail: String,
    },
    /// The transfer syntax is unknown or its data set encoding unsupported.
    #[error("transfer syntax {uid} is not supported")]
    UnsupportedTransferSyntax {
        /// The transfer syntax UID.
        uid: String,
    },
    /// A limit was exceeded.
    #[error("{detail}")]
    TooLarge {
        /// Which limit, and the tag.
        detail: String,
    },
}

/// What the file meta group says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileMeta {
    /// (0002,0010) Transfer Syntax UID.
    pub transfer_syntax: String,
    /// (0002,0002) Media Storage SOP Class UID.
    pub media_storage_sop_class: String,
    /// (0002,0003) Media Storage SOP Instance UID.
    pub media_storage_sop_instance: String,
}

/// A file's header.
#[derive(Debug, Clone)]
pub struct Header {
    /// The file meta group.
    pub meta: FileMeta,
    /// The data set up to (not including) the top-level Pixel Data.
    pub dataset: DataSet,
}

/// True when `bytes` (the start of a file) look like DICOM Part 10.
pub fn is_part10(bytes: &[u8]) -> bool {
    bytes.get(128..132) == Some(b"DICM") || bytes.starts_with(b"DICM")
}

/// Reads the header of the Part 10 file in `input`, `total_len` bytes long.
pub fn read_header<R: BufRead>(
    mut input: R,
    total_len: u64,
    limits: &ReadLimits,
) -> Result<Header, ReadError> {
    let mut start = [0u8; 132];
    let got = read_up_to(&mut input, &mut start)?;
    let consumed_preamble = if got >= 132 && &start[128..132] == b"DICM" {
        true
    } else if got >= 4 && &start[..4] == b"DICM" {
        false
    } else {
        return Err(ReadError::NotDicom);
    };
    // Without a preamble the 128 bytes after DICM are already data.
    let rest: Vec<u8> = if consumed_preamble {
        Vec::new()
    } else {
        start[4..got].to_vec()
    };
    let mut input = std::io::Cursor::new(rest).chain(input);
    let (mut meta, mut lookahead, meta_len) = read_meta(&mut input)?;
    let mut vr = [0u8; 2];
    let got = read_up_to(&mut input, &mut vr)?;
    lookahead.extend_from_slice(&vr[..got]);
    if declares_implicit_wrongly(&meta.transfer_syntax, &lookahead) {
        meta.transfer_syntax = IMPLICIT_LITTLE.into();
    }
    let body = std::io::Cursor::new(lookahead).chain(input);
    let remaining = total_len.saturating_sub(meta_len + if consumed_preamble { 132 } else { 4 });
    read_dataset(body, meta, remaining, limits)
}

fn read_up_to(input: &mut impl Read, buffer: &mut [u8]) -> Result<usize, ReadError> {
    let mut filled = 0;
    while filled < buffer.len() {
        match input.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(error) => {
                return Err(ReadError::Truncated {
                    detail: error.to_string(),
                })
            }
        }
    }
    Ok(filled)
}

fn read_exact(input: &mut impl Read, buffer: &mut [u8], what: &str) -> Result<(), ReadError> {
    if read_up_to(input, buffer)? < buffer.len() {
        return Err(ReadError::Truncated {
            detail: format!("in the file meta group at {what}"),
        });
    }
    Ok(())
}

/// Parses group 0002 (Explicit VR Little Endian). Returns the meta, the bytes read past it
/// (the first data set element's tag), and the meta group's length in bytes.
fn read_meta(input: &mut impl Read) -> Result<(FileMeta, Vec<u8>, u64), ReadError> {
    let mut meta = FileMeta::default();
    let mut read = 0u64;
    loop {
        let mut tag_bytes = [0u8; 4];
        let got = read_up_to(input, &mut tag_bytes)?;
        if got < 4 {
            return Err(ReadError::Truncated {
                detail: "after the file meta group: no data set".into(),
            });
        }
        let group = u16::from_le_bytes([tag_bytes[0], tag_bytes[1]]);
        let element = u16::from_le_bytes([tag_bytes[2], tag_bytes[3]]);
        if group != 0x0002 {
            if meta.transfer_syntax.is_empty() {
                return Err(ReadError::Malformed {
                    detail: "the file meta group has no Transfer Syntax UID (0002,0010)".into(),
                });
            }
            return Ok((meta, tag_bytes.to_vec(), read));
        }
        let what = format!("({group:04X},{element:04X})");
        let mut vr = [0u8; 2];
        read_exact(input, &mut vr, &what)?;
        let length = if matches!(
            &vr,
            b"OB" | b"OW" | b"OF" | b"SQ" | b"UT" | b"UN" | b"UC" | b"UR"
        ) {
            let mut reserved_and_length = [0u8; 6];
            read_exact(input, &mut reserved_and_length, &what)?;
            read += 12;
            u32::from_le_bytes([
                reserved_and_length[2],
                reserved_and_length[3],
                reserved_and_length[4],
                reserved_and_length[5],
            ])
        } else {
            let mut length = [0u8; 2];
            read_exact(input, &mut length, &what)?;
            read += 8;
            u32::from(u16::from_le_bytes(length))
        };
        if length > 64 * 1024 {
            return Err(ReadError::Malformed {
                detail: format!("file meta element {what} claims {length} bytes"),
            });
        }
        let mut value = vec![0u8; length as usize];
        read_exact(input, &mut value, &what)?;
        read += u64::from(length);
        let text = || {
            String::from_utf8_lossy(&value)
                .trim_end_matches([' ', '\0'])
                .to_owned()
        };
        match element {
            0x0002 => meta.media_storage_sop_class = text(),
            0x0003 => meta.media_storage_sop_instance = text(),
            0x0010 => meta.transfer_syntax = text(),
            _ => {}
        }
    }
}

/// One open sequence while reading: its tag and the items read so far.
struct OpenSequence {
    tag: Tag,
    items: Vec<DataSet>,
}

fn read_dataset<R: Read>(
    body: R,
    meta: FileMeta,
    remaining: u64,
    limits: &ReadLimits,
) -> Result<Header, ReadError> {
    let uid = meta.transfer_syntax.clone();
    let syntax = TransferSyntaxRegistry
        .get(&uid)
        .ok_or_else(|| ReadError::UnsupportedTransferSyntax { uid: uid.clone() })?;
    let big_endian = syntax.endianness() == dicom_encoding::Endianness::Big;
    let options = DataSetReaderOptions::default().value_read(ValueReadStrategy::Raw);
    let reader: Box<dyn Read> = if uid == DEFLATED {
        Box::new(flate2::read::DeflateDecoder::new(body))
    } else {
        Box::new(body)
    };
    let tokens = DataSetReader::new_with_ts_options(reader, syntax, options).map_err(|error| {
        ReadError::UnsupportedTransferSyntax {
            uid: format!("{uid} ({error})"),
        }
    })?;
    // A deflated body may inflate beyond the file's size.
    let max_value = if uid == DEFLATED {
        u64::from(limits.max_element_bytes)
    } else {
        remaining.min(u64::from(limits.max_element_bytes))
    };

    let mut root = DataSet::new(CharacterSets::default(), big_endian);
    // Data sets being filled (the root at the bottom) and the sequences between them.
    let mut sets: Vec<DataSet> = Vec::new();
    let mut sequences: Vec<OpenSequence> = Vec::new();
    let mut pending: Option<(Tag, VR)> = None;
    let mut pixel_depth = 0usize;
    let mut elements = 0usize;

    for token in tokens {
        let token = token.map_err(parse_error)?;
        let current = sets.last_mut().unwrap_or(&mut root);
        if pixel_depth > 0 {
            // Inside a nested encapsulated pixel sequence (an icon): skip its fragments.
            match token {
                DataToken::SequenceEnd => pixel_depth -= 1,
                DataToken::PixelSequenceStart => pixel_depth += 1,
                _ => {}
            }
            continue;
        }
        match token {
            DataToken::ElementHeader(header) => {
                if sequences.is_empty() && PIXEL_TAGS.contains(&header.tag) {
                    break;
                }
                if let Some(length) = header.len.get() {
                    if u64::from(length) > max_value {
                        return Err(ReadError::TooLarge {
                            detail: format!(
                                "element {} claims {length} bytes: more than the file holds or the {} MB element limit",
                                tag_text(header.tag),
                                limits.max_element_bytes >> 20
                            ),
                        });
                    }
                }
                pending = Some((header.tag, header.vr));
            }
            DataToken::PrimitiveValue(value) => {
                let Some((tag, vr)) = pending.take() else {
                    return Err(ReadError::Malformed {
                        detail: "a value without an element header".into(),
                    });
                };
                let bytes = value.to_bytes().into_owned();
                if tag == SPECIFIC_CHARACTER_SET {
                    // An unknown term keeps the default; the mapping reports it.
                    if let Ok(charsets) = CharacterSets::parse(&bytes) {
                        current.charsets = charsets;
                    }
                }
                elements += 1;
                current.elements.push(Element {
                    tag,
                    vr,
                    value: ElementValue::Bytes(bytes),
                });
            }
            DataToken::SequenceStart { tag, .. } => {
                if sequences.len() >= limits.max_depth {
                    return Err(ReadError::TooLarge {
                        detail: format!(
                            "sequence {} is nested deeper than {} levels",
                            tag_text(tag),
                            limits.max_depth
                        ),
                    });
                }
                sequences.push(OpenSequence {
                    tag,
                    items: Vec::new(),
                });
            }
            DataToken::ItemStart { .. } => {
                let item = DataSet::new(current.charsets.clone(), big_endian);
                sets.push(item);
            }
            DataToken::ItemEnd => {
                let item = sets.pop().ok_or_else(|| ReadError::Malformed {
                    detail: "an item end outside any item".into(),
                })?;
                if let Some(sequence) = sequences.last_mut() {
                    sequence.items.push(item);
                }
            }
            DataToken::SequenceEnd => {
                let sequence = sequences.pop().ok_or_else(|| ReadError::Malformed {
                    detail: "a sequence end outside any sequence".into(),
                })?;
                elements += 1;
                let parent = sets.last_mut().unwrap_or(&mut root);
                parent.elements.push(Element {
                    tag: sequence.tag,
                    vr: VR::SQ,
                    value: ElementValue::Items(sequence.items),
                });
            }
            DataToken::PixelSequenceStart => {
                if sequences.is_empty() {
                    break;
                }
                pending = None;
                pixel_depth = 1;
            }
            DataToken::ItemValue(_) | DataToken::OffsetTable(_) => {}
        }
        if elements > limits.max_elements {
            return Err(ReadError::TooLarge {
                detail: format!("more than {} elements", limits.max_elements),
            });
        }
    }
    // The token reader can stop at the end of the input without the delimiters of sequences
    // whose defined length ends exactly there (DICOMDIRs often end so): close them in order.
    while let Some(sequence) = sequences.pop() {
        let mut items = sequence.items;
        // Items still open belong to this sequence (one per level below it).
        if sets.len() > sequences.len() {
            if let Some(item) = sets.pop() {
                items.push(item);
            }
        }
        let parent = sets.last_mut().unwrap_or(&mut root);
        parent.elements.push(Element {
            tag: sequence.tag,
            vr: VR::SQ,
            value: ElementValue::Items(items),
        });
    }
    Ok(Header {
        meta,
        dataset: root,
    })
}

/// `(gggg,eeee)`.
pub fn tag_text(tag: Tag) -> String {
    format!("({:04X},{:04X})", tag.0, tag.1)
}

fn parse_error(error: dicom_parser::dataset::read::Error) -> ReadError {
    let detail = error.to_string();
    let mut source: Option<&dyn std::error::Error> = Some(&error);
    while let Some(current) = source {
        if let Some(io) = current.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::UnexpectedEof {
                return ReadError::Truncated { detail };
            }
        }
        source = current.source();
    }
    ReadError::Malformed { detail }
}
