//! Slicing: each occurrence of a sliced element assigned to the first slice whose
//! discriminators it meets (value, pattern, exists, type, profile; without discriminators, the
//! first slice it fully conforms to), then per-slice cardinality, closed and ordered rules,
//! and each assigned occurrence validated against its slice.

use std::sync::Arc;

use serde_json::Value;

use super::compiled::{CompiledProfile, Discriminator, DiscriminatorKind, SlicingRules, Strength};
use super::outcome::IssueType;
use super::walk::{contains_pattern, Occurrence, Walk};
use crate::terminology::Membership;

/// An occurrence of the sliced element, its path and its type.
pub(crate) type Found<'v> = (Occurrence<'v>, String, String);

/// Checks the occurrences of the sliced element `sliced` against its slices.
pub(crate) fn check<'v>(
    walk: &mut Walk<'_, 'v>,
    profile: &Arc<CompiledProfile>,
    sliced: usize,
    occurrences: &[Found<'v>],
    element_path: &str,
) {
    let node = &profile.nodes[sliced];
    let (discriminators, rules, ordered) = match &node.slicing {
        Some(slicing) => (
            slicing.discriminators.clone(),
            slicing.rules,
            slicing.ordered,
        ),
        None => (Vec::new(), SlicingRules::Open, false),
    };
    let slices = node.slices.clone();
    let mut assigned: Vec<Option<usize>> = Vec::with_capacity(occurrences.len());
    let mut resliced: Vec<(usize, usize)> = Vec::new();
    for (occurrence, _, type_code) in occurrences {
        let slot = slices.iter().position(|&slice| {
            matches_slice(
                walk,
                profile,
                slice,
                *occurrence,
                type_code,
                &discriminators,
            )
        });
        assigned.push(slot);
        // A re-slice (`a/b`) of the slice matched counts the occurrence too.
        if let Some(first) = slot {
            let parent = profile.nodes[slices[first]]
                .slice_name
                .clone()
                .unwrap_or_default();
            for (later, &slice) in slices.iter().enumerate().skip(first + 1) {
                let is_reslice = profile.nodes[slice]
                    .slice_name
                    .as_deref()
                    .is_some_and(|name| name.starts_with(&format!("{parent}/")));
                if is_reslice
                    && matches_slice(
                        walk,
                        profile,
                        slice,
                        *occurrence,
                        type_code,
                        &discriminators,
                    )
                {
                    resliced.push((assigned.len() - 1, later));
                }
            }
        }
    }
    let parent_path = element_path
        .rsplit_once('.')
        .map_or(element_path, |(parent, _)| parent);
    for (slot, &slice) in slices.iter().enumerate() {
        let count = assigned.iter().filter(|a| **a == Some(slot)).count()
            + resliced
                .iter()
                .filter(|(_, reslice)| *reslice == slot)
                .count();
        let slice_node = &profile.nodes[slice];
        let name = slice_node.slice_name.as_deref().unwrap_or("");
        if (count as u64) < u64::from(slice_node.min) {
            walk.error(
                IssueType::Structure,
                parent_path,
                if count == 0 {
                    format!(
                        "Slice '{}:{name}': a matching slice is required, but not found (from {})",
                        node.path, profile.url
                    )
                } else {
                    format!(
                        "{}:{name}: minimum required = {}, but only found {count} (from {})",
                        node.path, slice_node.min, profile.url
                    )
                },
            );
        }
        if let Some(max) = slice_node.max {
            if count as u64 > u64::from(max) {
                walk.error(
                    IssueType::Structure,
                    parent_path,
                    format!(
                        "{}:{name}: max allowed = {max}, but found {count} (from {})",
                        node.path, profile.url
                    ),
                );
            }
        }
    }
    for &(at, reslice) in &resliced {
        let (occurrence, path, type_code) = &occurrences[at];
        walk.value(profile, slices[reslice], *occurrence, path, type_code, None);
    }
    let mut last_slot = 0;
    let mut seen_unmatched = false;
    for ((occurrence, path, type_code), slot) in occurrences.iter().zip(&assigned) {
        match slot {
            Some(slot) => {
                if ordered && *slot < last_slot {
                    walk.error(
                        IssueType::Structure,
                        path,
                        "As specified by profile, elements must be in the same order as the slices",
                    );
                }
                if rules == SlicingRules::OpenAtEnd && seen_unmatched {
                    walk.error(
                        IssueType::Structure,
                        path,
                        "Content that matches no slice must come after the slices (openAtEnd)",
                    );
                }
                last_slot = *slot;
                walk.value(profile, slices[*slot], *occurrence, path, type_code, None);
            }
            None => {
                seen_unmatched = true;
                let sub_extension = node.name == "extension"
                    && occurrence
                        .value
                        .and_then(|value| value.get("url"))
                        .and_then(Value::as_str)
                        .is_some_and(|url| !url.contains(':'));
                if sub_extension {
                    let url = occurrence
                        .value
                        .and_then(|value| value.get("url"))
                        .and_then(Value::as_str)
                        .unwrap_or("");
                    walk.error(
                        IssueType::Structure,
                        path,
                        format!(
                            "Sub-extension url '{url}' is not defined by the Extension {}",
                            profile.url
                        ),
                    );
                } else if rules == SlicingRules::Closed {
                    walk.error(
                        IssueType::Structure,
                        path,
                        format!(
                            "This element does not match any known slice defined in the profile {} and slicing is CLOSED",
                            profile.url
                        ),
                    );
                }
            }
        }
    }
}

fn matches_slice<'v>(
    walk: &mut Walk<'_, 'v>,
    profile: &Arc<CompiledProfile>,
    slice: usize,
    occurrence: Occurrence<'v>,
    type_code: &str,
    discriminators: &[Discriminator],
) -> bool {
    if discriminators.is_empty() {
        return conforms(walk, profile, slice, occurrence, type_code);
    }
    discriminators.iter().all(|discriminator| {
        let Some((target_profile, target)) = element_at(walk, profile, slice, &discriminator.path)
        else {
            return false;
        };
        let element = &target_profile.nodes[target];
        let selected = select(walk, occurrence, type_code, &discriminator.path);
        match discriminator.kind {
            DiscriminatorKind::Value | DiscriminatorKind::Pattern if element.max == Some(0) => {
                // An element the slice forbids matches by its absence.
                selected.is_empty()
            }
            DiscriminatorKind::Value | DiscriminatorKind::Pattern => {
                match element.fixed.as_ref().or(element.pattern.as_ref()) {
                    Some(expected) => selected
                        .iter()
                        .any(|(value, _)| contains_pattern(value, expected)),
                    None => match &element.binding {
                        Some(binding) if binding.strength == Strength::Required => {
                            let Some(expansion) = walk.validator.expansion(&binding.value_set)
                            else {
                                return false;
                            };
                            let element_type =
                                element.types.first().map_or("", |t| t.code.as_str());
                            selected.iter().any(|(value, found_type)| {
                                super::bindings::memberships(
                                    &expansion,
                                    value,
                                    found_type.as_deref().unwrap_or(element_type),
                                )
                                .contains(&Membership::In)
                            })
                        }
                        _ => false,
                    },
                }
            }
            DiscriminatorKind::Exists => {
                if element.min >= 1 {
                    !selected.is_empty()
                } else if element.max == Some(0) {
                    selected.is_empty()
                } else {
                    true
                }
            }
            DiscriminatorKind::Type => {
                let allowed: Vec<String> = match discriminator.path.strip_suffix(".resolve()") {
                    // The types a resolved reference may have are the Reference's targets.
                    Some(reference_path) => element_at(walk, profile, slice, reference_path)
                        .map(|(holder, at)| target_types(walk, &holder.nodes[at]))
                        .unwrap_or_default(),
                    None => element.types.iter().map(|t| t.code.clone()).collect(),
                };
                selected.iter().any(|(value, found_type)| {
                    let found = found_type.clone().or_else(|| {
                        value
                            .get("resourceType")
                            .and_then(Value::as_str)
                            .map(str::to_owned)
                    });
                    found.is_some_and(|found| allowed.contains(&found))
                })
            }
            DiscriminatorKind::Profile => {
                let canonicals: Vec<String> = element
                    .types
                    .iter()
                    .flat_map(|t| t.profiles.iter().chain(t.target_profiles.iter()).cloned())
                    .collect();
                selected.iter().any(|(value, _)| {
                    canonicals.iter().any(|canonical| {
                        let Some(candidate) = walk.validator.profile(canonical) else {
                            return false;
                        };
                        let start = walk.issue_count();
                        if let Some(res_type) = value.get("resourceType").and_then(Value::as_str) {
                            if res_type != candidate.type_name {
                                return false;
                            }
                            walk.against(&candidate, value, "");
                        } else if let Some(object) = value.as_object() {
                            let candidate_type = candidate.type_name.clone();
                            walk.object(
                                &candidate,
                                0,
                                object,
                                "",
                                super::walk::Holder {
                                    type_code: &candidate_type,
                                    element_path: &candidate_type,
                                    extension_url: None,
                                },
                            );
                        }
                        !walk.rollback(start)
                    })
                })
            }
        }
    })
}

/// Whether the occurrence validates against the slice without errors (issues dropped).
fn conforms<'v>(
    walk: &mut Walk<'_, 'v>,
    profile: &Arc<CompiledProfile>,
    slice: usize,
    occurrence: Occurrence<'v>,
    type_code: &str,
) -> bool {
    let start = walk.issue_count();
    walk.value(profile, slice, occurrence, "", type_code, None);
    !walk.rollback(start)
}

/// Splits a discriminator path into steps, keeping function arguments whole
/// (`extension('http://x.org/a.b').value`).
fn steps(path: &str) -> Vec<&str> {
    let mut steps = Vec::new();
    let mut depth = 0usize;
    let mut quote = false;
    let mut start = 0;
    for (at, c) in path.char_indices() {
        match c {
            '\'' | '"' => quote = !quote,
            '(' if !quote => depth += 1,
            ')' if !quote => depth = depth.saturating_sub(1),
            '.' if !quote && depth == 0 => {
                steps.push(&path[start..at]);
                start = at + 1;
            }
            _ => {}
        }
    }
    steps.push(&path[start..]);
    steps.into_iter().filter(|step| !step.is_empty()).collect()
}

/// The argument of `name(arg)` or `name('arg')`.
fn argument<'p>(step: &'p str, function: &str) -> Option<&'p str> {
    let inner = step
        .strip_prefix(function)?
        .strip_prefix('(')?
        .strip_suffix(')')?;
    Some(inner.trim_matches(|c| c == '\'' || c == '"'))
}

/// The values a discriminator path selects from an occurrence, with their type when known.
fn select<'v>(
    walk: &Walk<'_, 'v>,
    occurrence: Occurrence<'v>,
    type_code: &str,
    path: &str,
) -> Vec<(&'v Value, Option<String>)> {
    let Some(start) = occurrence.value else {
        return Vec::new();
    };
    let mut current: Vec<(&'v Value, Option<String>)> = vec![(start, Some(type_code.to_owned()))];
    let steps = steps(path);
    let mut index = 0;
    while index < steps.len() {
        let step = steps[index];
        index += 1;
        if step == "$this" {
            continue;
        }
        if step == "resolve()" {
            current = current
                .into_iter()
                .filter_map(|(value, _)| {
                    let reference = value.get("reference").and_then(Value::as_str)?;
                    match resolve(walk, reference) {
                        Some(target) => {
                            let found = target
                                .get("resourceType")
                                .and_then(Value::as_str)
                                .map(str::to_owned);
                            Some((target, found))
                        }
                        // Not at hand: the type the reference text names.
                        None => super::references::literal_type(reference)
                            .map(|found| (value, Some(found))),
                    }
                })
                .collect();
            continue;
        }
        if let Some(url) = argument(step, "extension") {
            current = current
                .into_iter()
                .flat_map(|(value, _)| items(value.get("extension")))
                .filter(|extension| extension.get("url").and_then(Value::as_str) == Some(url))
                .map(|extension| (extension, Some("Extension".to_owned())))
                .collect();
            continue;
        }
        if let Some(wanted) = argument(step, "ofType") {
            current.retain(|(_, found)| found.as_deref().is_none_or(|found| found == wanted));
            continue;
        }
        // A choice element followed by ofType(T) reads the `nameT` property.
        let of_type = steps.get(index).and_then(|next| argument(next, "ofType"));
        let mut next = Vec::new();
        for (value, _) in &current {
            let Some(object) = value.as_object() else {
                continue;
            };
            if let Some(found) = object.get(step) {
                next.extend(items(Some(found)).into_iter().map(|item| (item, None)));
                continue;
            }
            for (key, found) in object {
                if let Some(suffix) = key.strip_prefix(step) {
                    if suffix.starts_with(|c: char| c.is_ascii_uppercase()) {
                        let found_type = choice_type(suffix);
                        if of_type.is_none_or(|wanted| wanted == found_type) {
                            next.extend(
                                items(Some(found))
                                    .into_iter()
                                    .map(|item| (item, Some(found_type.clone()))),
                            );
                        }
                    }
                }
            }
        }
        current = next;
    }
    current
}

/// The FHIR type a choice suffix names (`Quantity`, `DateTime` → `dateTime`).
fn choice_type(suffix: &str) -> String {
    if super::primitives::is_primitive(&lower_first(suffix)) {
        lower_first(suffix)
    } else {
        suffix.to_owned()
    }
}

fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_ascii_lowercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

fn items(value: Option<&Value>) -> Vec<&Value> {
    match value {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(other) => vec![other],
        None => Vec::new(),
    }
}

/// The resource a reference names within the contained resources or the Bundle.
fn resolve<'v>(walk: &Walk<'_, 'v>, reference: &str) -> Option<&'v Value> {
    if let Some(local) = reference.strip_prefix('#') {
        return [walk.current_resource(), walk.root_resource()]
            .into_iter()
            .filter_map(|resource| resource.get("contained").and_then(Value::as_array))
            .flatten()
            .find(|resource| resource.get("id").and_then(Value::as_str) == Some(local));
    }
    let entries = walk.root.get("entry")?.as_array()?;
    entries
        .iter()
        .find(|entry| {
            let full_url = entry.get("fullUrl").and_then(Value::as_str).unwrap_or("");
            full_url == reference
                || (!reference.contains(':') && full_url.ends_with(&format!("/{reference}")))
        })
        .and_then(|entry| entry.get("resource"))
}

/// The element a discriminator path names inside a slice: through children, the type's
/// profile or definition where the slice does not expand it, extensions by URL, and
/// `resolve()` into the target profile.
fn element_at(
    walk: &Walk<'_, '_>,
    profile: &Arc<CompiledProfile>,
    slice: usize,
    path: &str,
) -> Option<(Arc<CompiledProfile>, usize)> {
    let mut current = (profile.clone(), slice);
    for step in steps(path) {
        if step == "$this" || argument(step, "ofType").is_some() {
            continue;
        }
        if step == "resolve()" {
            let node = &current.0.nodes[current.1];
            let canonical = node
                .types
                .iter()
                .flat_map(|t| t.target_profiles.iter())
                .next()?
                .clone();
            let target = walk.validator.profile(&canonical)?;
            current = (target, 0);
            continue;
        }
        if let Some(url) = argument(step, "extension") {
            let (holder_profile, holder) = expand(walk, &current)?;
            let extension = holder_profile.nodes[holder]
                .children
                .iter()
                .copied()
                .find(|&child| holder_profile.nodes[child].name == "extension");
            let by_slice = extension.and_then(|extension| {
                // The last fits best: a re-slice (`actionType/Single`) follows the slice it refines.
                holder_profile.nodes[extension]
                    .slices
                    .iter()
                    .rev()
                    .copied()
                    .find(|&s| {
                        holder_profile.nodes[s]
                            .types
                            .iter()
                            .any(|t| t.profiles.iter().any(|p| p == url))
                    })
            });
            current = match by_slice {
                Some(found) => (holder_profile, found),
                None => (walk.validator.profile(url)?, 0),
            };
            continue;
        }
        let (holder_profile, holder) = expand(walk, &current)?;
        let child = holder_profile.nodes[holder]
            .children
            .iter()
            .copied()
            .find(|&child| {
                let node = &holder_profile.nodes[child];
                node.name == step || node.choice.as_deref() == Some(step)
            })?;
        current = (holder_profile, child);
    }
    Some(current)
}

/// The node itself when it has children, else the root of its type's profile or definition.
fn expand(
    walk: &Walk<'_, '_>,
    at: &(Arc<CompiledProfile>, usize),
) -> Option<(Arc<CompiledProfile>, usize)> {
    let node = &at.0.nodes[at.1];
    if !node.children.is_empty() {
        return Some(at.clone());
    }
    let type_ref = node.types.first()?;
    if let Some(profile) = type_ref
        .profiles
        .iter()
        .find_map(|p| walk.validator.profile(p))
    {
        return Some((profile, 0));
    }
    walk.validator
        .type_profile(&type_ref.code)
        .map(|profile| (profile, 0))
}

/// The resource types a Reference element's target profiles allow.
fn target_types(walk: &Walk<'_, '_>, node: &super::compiled::ElementNode) -> Vec<String> {
    node.types
        .iter()
        .flat_map(|t| t.target_profiles.iter())
        .filter_map(|canonical| {
            walk.validator
                .profile(canonical)
                .map(|p| p.type_name.clone())
        })
        .collect()
}
