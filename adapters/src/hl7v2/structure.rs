//! Groups a message's segments the way its HL7 v2 abstract message syntax does, tolerantly:
//! patient and visit segments, order groups (ORC/OBR with their TQ1, NTE, OBX, IPC, SPM),
//! and specimens. Segments that belong to no group the mapping knows are left out here and
//! reported as not mapped; Z segments take the OBX/NTE that follow them along (the SS-MIX2
//! ZE1 execution details), because those OBX describe the Z segment, not the order.

use super::er7::{Message, Segment};
use super::message_kind::MessageKind;

/// One OBX with its notes and the specimen it was reported under.
pub struct ObservationItem<'m> {
    /// The OBX segment.
    pub obx: Segment<'m>,
    /// NTE segments right after it.
    pub notes: Vec<Segment<'m>>,
    /// Index into [`Structure::specimens`] of the specimen the result is about: the SPM it
    /// follows within its group, or (SPM-first messages) the SPM its group belongs to.
    pub specimen: Option<usize>,
    /// True when the OBX follows an SPM inside its own group: such OBX restart their set ids,
    /// so the specimen becomes part of the Observation's key.
    pub after_specimen: bool,
}

/// One order (ORC and/or OBR) with everything that belongs to it.
#[derive(Default)]
pub struct OrderGroup<'m> {
    /// The common order segment.
    pub orc: Option<Segment<'m>>,
    /// The observation request.
    pub obr: Option<Segment<'m>>,
    /// TQ1 timing segments.
    pub timing: Vec<Segment<'m>>,
    /// NTE segments about the order.
    pub notes: Vec<Segment<'m>>,
    /// OBX segments of the order.
    pub observations: Vec<ObservationItem<'m>>,
    /// IPC imaging procedure control segments.
    pub imaging: Vec<Segment<'m>>,
    /// Indexes into [`Structure::specimens`].
    pub specimens: Vec<usize>,
}

/// The segments of a message, grouped.
pub struct Structure<'m> {
    /// EVN.
    pub evn: Option<Segment<'m>>,
    /// PID (the first; a second patient in one message is not converted).
    pub pid: Option<Segment<'m>>,
    /// PD1.
    pub pd1: Option<Segment<'m>>,
    /// PV1.
    pub pv1: Option<Segment<'m>>,
    /// PV2.
    pub pv2: Option<Segment<'m>>,
    /// ZDS (study UID in radiology results).
    pub zds: Option<Segment<'m>>,
    /// Order groups in message order.
    pub orders: Vec<OrderGroup<'m>>,
    /// SPM segments in message order.
    pub specimens: Vec<Segment<'m>>,
    /// Segments deliberately not grouped, with why (for the report).
    pub skipped: Vec<(Segment<'m>, &'static str)>,
}

impl<'m> Structure<'m> {
    /// Groups the segments of `message` for a message of `kind`.
    pub fn read(message: &'m Message, kind: MessageKind) -> Structure<'m> {
        let mut structure = Structure {
            evn: None,
            pid: None,
            pd1: None,
            pv1: None,
            pv2: None,
            zds: None,
            orders: Vec::new(),
            specimens: Vec::new(),
            skipped: Vec::new(),
        };
        let specimen_first = kind.specimen_first();
        let orc_follows_obr = kind.orc_follows_obr();
        let mut group: Option<usize> = None;
        let mut last_obx = false;
        let mut in_z_segment = false;
        let mut current_specimen: Option<usize> = None;
        for segment in message.segments().skip(1) {
            let id = segment.id();
            if id == "ZDS" {
                structure.zds.get_or_insert(segment);
                continue;
            }
            if id.starts_with('Z') {
                in_z_segment = true;
                continue;
            }
            if in_z_segment && matches!(id, "OBX" | "NTE") {
                structure
                    .skipped
                    .push((segment, "it follows a Z segment, which it describes"));
                continue;
            }
            in_z_segment = false;
            match id {
                "EVN" => set_once(&mut structure.evn, segment, &mut structure.skipped),
                "PID" => set_once(&mut structure.pid, segment, &mut structure.skipped),
                "PD1" => set_once(&mut structure.pd1, segment, &mut structure.skipped),
                "PV1" => set_once(&mut structure.pv1, segment, &mut structure.skipped),
                "PV2" => set_once(&mut structure.pv2, segment, &mut structure.skipped),
                "ORC" => {
                    last_obx = false;
                    let attach = orc_follows_obr
                        && group
                            .and_then(|g| structure.orders.get(g))
                            .is_some_and(|g| {
                                g.orc.is_none() && g.obr.is_some() && g.observations.is_empty()
                            });
                    if attach {
                        if let Some(current) = group.and_then(|g| structure.orders.get_mut(g)) {
                            current.orc = Some(segment);
                        }
                    } else {
                        group = Some(structure.new_group(specimen_first, current_specimen));
                        if let Some(current) = group.and_then(|g| structure.orders.get_mut(g)) {
                            current.orc = Some(segment);
                        }
                    }
                }
                "OBR" => {
                    last_obx = false;
                    let attach = !orc_follows_obr
                        && group
                            .and_then(|g| structure.orders.get(g))
                            .is_some_and(|g| {
                                g.orc.is_some() && g.obr.is_none() && g.observations.is_empty()
                            });
                    if !attach {
                        group = Some(structure.new_group(specimen_first, current_specimen));
                    }
                    if let Some(current) = group.and_then(|g| structure.orders.get_mut(g)) {
                        current.obr = Some(segment);
                    }
                }
                "TQ1" => match group.and_then(|g| structure.orders.get_mut(g)) {
                    Some(current) => current.timing.push(segment),
                    None => structure.skipped.push((segment, "it belongs to no order")),
                },
                "IPC" => match group.and_then(|g| structure.orders.get_mut(g)) {
                    Some(current) => current.imaging.push(segment),
                    None => structure.skipped.push((segment, "it belongs to no order")),
                },
                "OBX" => match group.and_then(|g| structure.orders.get_mut(g)) {
                    Some(current) => {
                        let (specimen, after_specimen) = if specimen_first {
                            (current.specimens.first().copied(), false)
                        } else {
                            let last = current.specimens.last().copied();
                            (last, last.is_some())
                        };
                        current.observations.push(ObservationItem {
                            obx: segment,
                            notes: Vec::new(),
                            specimen,
                            after_specimen,
                        });
                        last_obx = true;
                    }
                    None => {
                        let reason = if current_specimen.is_some() {
                            "observations about a specimen itself are not converted"
                        } else {
                            "observations outside an order group are not converted"
                        };
                        structure.skipped.push((segment, reason));
                    }
                },
                "NTE" => match group.and_then(|g| structure.orders.get_mut(g)) {
                    Some(current) if last_obx => match current.observations.last_mut() {
                        Some(item) => item.notes.push(segment),
                        None => current.notes.push(segment),
                    },
                    Some(current) => current.notes.push(segment),
                    None => structure
                        .skipped
                        .push((segment, "a note outside an order group")),
                },
                "SPM" => {
                    last_obx = false;
                    let index = structure.specimens.len();
                    structure.specimens.push(segment);
                    if specimen_first {
                        // The orders that follow belong to this specimen.
                        current_specimen = Some(index);
                        group = None;
                    } else if let Some(current) = group.and_then(|g| structure.orders.get_mut(g)) {
                        current.specimens.push(index);
                    }
                }
                _ => {}
            }
        }
        structure
    }

    fn new_group(&mut self, specimen_first: bool, specimen: Option<usize>) -> usize {
        let mut group = OrderGroup::default();
        if specimen_first {
            group.specimens.extend(specimen);
        }
        self.orders.push(group);
        self.orders.len() - 1
    }
}

fn set_once<'m>(
    slot: &mut Option<Segment<'m>>,
    segment: Segment<'m>,
    skipped: &mut Vec<(Segment<'m>, &'static str)>,
) {
    if slot.is_some() {
        skipped.push((segment, "only the first one in a message is converted"));
    } else {
        *slot = Some(segment);
    }
}
