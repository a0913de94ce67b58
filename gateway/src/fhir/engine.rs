//! Runs one [`EntryRequest`] inside a store transaction: the R4 rules for create, update,
//! patch, delete, read and their conditional forms.

use super::criteria::{identifier_keys, parse_criteria};
use super::entry::{EntryOutcome, EntryRequest, Method, Target};
use super::ids::{check_id, new_id};
use crate::clock::Instant;
use crate::store::{NewVersion, StoreTx, StoredVersion, WriteMethod};
use crate::GatewayError;
use serde_json::Value;
use tsunagi_profiles::search::extract_index;
use tsunagi_profiles::Resource;

/// At most this many matches are fetched to tell "one" from "several".
const MATCH_PROBE: usize = 2;

/// Executes `request` at time `now`.
pub fn execute(
    tx: &mut dyn StoreTx,
    request: EntryRequest,
    now: Instant,
) -> Result<EntryOutcome, GatewayError> {
    match (request.method, request.target.clone()) {
        (Method::Post, Target::Type(res_type)) => create(tx, request, &res_type, now),
        (Method::Put, Target::Instance(res_type, id)) => update(tx, request, &res_type, &id, now),
        (Method::Put, Target::Conditional(..)) => {
            let request = resolve_conditional_update(tx, request)?;
            execute(tx, request, now)
        }
        (Method::Patch, Target::Instance(res_type, id)) => patch(tx, request, &res_type, &id, now),
        (Method::Patch, Target::Conditional(res_type, query)) => {
            match unique_match(tx, &res_type, &query, "url")? {
                Some(id) => patch(tx, request, &res_type, &id, now),
                None => Err(GatewayError::NoMatch(format!(
                    "conditional patch '{res_type}?{query}' matches no resource"
                ))),
            }
        }
        (Method::Delete, Target::Instance(res_type, id)) => {
            delete(tx, &res_type, &id, request.if_match, now)
        }
        (Method::Delete, Target::Conditional(res_type, query)) => {
            match unique_match(tx, &res_type, &query, "url")? {
                Some(id) => delete(tx, &res_type, &id, request.if_match, now),
                None => Ok(nothing_done(204, "no resource matched; nothing deleted")),
            }
        }
        (Method::Get, Target::Instance(res_type, id)) => {
            let current = tx.current(&res_type, &id)?;
            found(current, &format!("{res_type}/{id}"))
        }
        (Method::Get, Target::Version(res_type, id, version)) => {
            let stored = tx.version(&res_type, &id, version)?;
            found(stored, &format!("{res_type}/{id}/_history/{version}"))
        }
        (method, target) => Err(GatewayError::MethodNotAllowed(format!(
            "{method:?} on {target:?}"
        ))),
    }
}

fn create(
    tx: &mut dyn StoreTx,
    mut request: EntryRequest,
    res_type: &str,
    now: Instant,
) -> Result<EntryOutcome, GatewayError> {
    let mut resource = body_of(&mut request, res_type)?;
    if let Some(query) = &request.if_none_exist {
        let criteria = parse_criteria(res_type, query, "If-None-Exist")?;
        let matches = tx.find(res_type, &criteria, MATCH_PROBE)?;
        match matches.as_slice() {
            [] => {}
            [existing] => {
                let current = tx.current(res_type, existing)?;
                return Ok(EntryOutcome {
                    status: 200,
                    stored: current,
                    note: Some(
                        "If-None-Exist matched an existing resource; nothing created".into(),
                    ),
                    wrote: false,
                    issues: Vec::new(),
                });
            }
            _ => {
                return Err(GatewayError::MultipleMatches(format!(
                    "If-None-Exist '{query}' matches more than one {res_type}"
                )))
            }
        }
    }
    let id = request.assigned_id.take().unwrap_or_else(new_id);
    // No read first: `write` refuses version 1 of a resource that exists (409).
    resource.set_id(&id);
    let stored = write_version(tx, resource, 1, WriteMethod::Post, now)?;
    Ok(written(201, stored))
}

fn update(
    tx: &mut dyn StoreTx,
    mut request: EntryRequest,
    res_type: &str,
    id: &str,
    now: Instant,
) -> Result<EntryOutcome, GatewayError> {
    let resource = body_of(&mut request, res_type)?;
    match resource.id() {
        None => {
            return Err(GatewayError::invalid(
                format!(
                "the resource has no id; an update of {res_type}/{id} needs id '{id}' in the body"
            ),
                "id",
            ))
        }
        Some(body_id) if body_id != id => {
            return Err(GatewayError::invalid(
                format!("the body's id '{body_id}' differs from '{id}' in the URL"),
                "id",
            ))
        }
        Some(_) => {}
    }
    check_id(id, "id")?;
    let current = tx.current(res_type, id)?;
    check_if_match(request.if_match, current.as_ref(), res_type, id)?;
    let live = current.as_ref().filter(|stored| !stored.is_deleted());
    if let Some(live) = live {
        if same_content(live, &resource) {
            return Ok(unchanged(live.clone()));
        }
    }
    let status = if live.is_some() { 200 } else { 201 };
    let next = current.as_ref().map_or(1, |stored| stored.version + 1);
    let stored = write_version(tx, resource, next, WriteMethod::Put, now)?;
    Ok(written(status, stored))
}

fn patch(
    tx: &mut dyn StoreTx,
    request: EntryRequest,
    res_type: &str,
    id: &str,
    now: Instant,
) -> Result<EntryOutcome, GatewayError> {
    let current = tx.current(res_type, id)?;
    check_if_match(request.if_match, current.as_ref(), res_type, id)?;
    let live = live_version(current, &format!("{res_type}/{id}"))?;
    let document = request
        .patch
        .clone()
        .ok_or_else(|| GatewayError::invalid("a patch needs a JSON Patch document", "body"))?;
    let operations: json_patch::Patch = serde_json::from_value(document).map_err(|error| {
        GatewayError::invalid(format!("not a JSON Patch document: {error}"), "body")
    })?;
    let body = live.body.as_deref().unwrap_or_default();
    let mut value: Value = serde_json::from_slice(body).map_err(|error| {
        crate::store::StoreError::Backend(format!("stored JSON unreadable: {error}"))
    })?;
    json_patch::patch(&mut value, &operations).map_err(|error| {
        GatewayError::Unprocessable(format!("the patch cannot be applied: {error}"))
    })?;
    if value.get("resourceType").and_then(Value::as_str) != Some(res_type)
        || value.get("id").and_then(Value::as_str) != Some(id)
    {
        return Err(GatewayError::Unprocessable(
            "a patch may not change resourceType or id".into(),
        ));
    }
    let resource = Resource::from_value(value).map_err(|error| {
        GatewayError::Unprocessable(format!("the patched resource is not valid: {error}"))
    })?;
    if same_content(&live, &resource) {
        return Ok(unchanged(live));
    }
    let stored = write_version(tx, resource, live.version + 1, WriteMethod::Patch, now)?;
    Ok(written(200, stored))
}

fn delete(
    tx: &mut dyn StoreTx,
    res_type: &str,
    id: &str,
    if_match: Option<u64>,
    now: Instant,
) -> Result<EntryOutcome, GatewayError> {
    let current = tx.current(res_type, id)?;
    check_if_match(if_match, current.as_ref(), res_type, id)?;
    let Some(live) = current.filter(|stored| !stored.is_deleted()) else {
        return Ok(nothing_done(204, "nothing to delete"));
    };
    let stored = StoredVersion {
        res_type: res_type.to_owned(),
        id: id.to_owned(),
        version: live.version + 1,
        last_updated: now,
        method: WriteMethod::Delete,
        body: None,
    };
    tx.write(NewVersion {
        stored: stored.clone(),
        identifiers: Vec::new(),
        search: Vec::new(),
    })?;
    Ok(written(204, stored))
}

/// Turns a conditional update (`PUT Type?criteria`) into a plain update of the resource it
/// resolves to: the one match, else the body's id, else a new id (R4: several matches → 412).
pub fn resolve_conditional_update(
    tx: &mut dyn StoreTx,
    mut request: EntryRequest,
) -> Result<EntryRequest, GatewayError> {
    let Target::Conditional(res_type, query) = request.target.clone() else {
        return Ok(request);
    };
    let mut resource = body_of(&mut request, &res_type)?;
    let body_id = resource.id().map(str::to_owned);
    let id = match unique_match(tx, &res_type, &query, "url")? {
        Some(matched) => match body_id {
            Some(body_id) if body_id != matched => {
                return Err(GatewayError::invalid(
                    format!(
                        "the body's id '{body_id}' differs from the matched {res_type}/{matched}"
                    ),
                    "id",
                ))
            }
            _ => matched,
        },
        None => body_id
            .or_else(|| request.assigned_id.clone())
            .unwrap_or_else(new_id),
    };
    resource.set_id(&id);
    request.resource = Some(resource);
    request.target = Target::Instance(res_type, id);
    Ok(request)
}

/// The single live resource matching `query`, `None` when none does, 412 when several do.
pub fn unique_match(
    tx: &mut dyn StoreTx,
    res_type: &str,
    query: &str,
    location: &str,
) -> Result<Option<String>, GatewayError> {
    let criteria = parse_criteria(res_type, query, location)?;
    let mut matches = tx.find(res_type, &criteria, MATCH_PROBE)?;
    match matches.len() {
        0 => Ok(None),
        1 => Ok(matches.pop()),
        _ => Err(GatewayError::MultipleMatches(format!(
            "'{res_type}?{query}' matches more than one resource"
        ))),
    }
}

/// Takes the request's resource out (no copy) and checks its type against the URL's.
fn body_of(request: &mut EntryRequest, res_type: &str) -> Result<Resource, GatewayError> {
    let resource = request
        .resource
        .take()
        .ok_or_else(|| GatewayError::invalid("this interaction needs a resource body", "body"))?;
    if resource.resource_type() != res_type {
        return Err(GatewayError::invalid(
            format!(
                "the body is a {} but the URL names {res_type}",
                resource.resource_type()
            ),
            "resourceType",
        ));
    }
    Ok(resource)
}

fn check_if_match(
    if_match: Option<u64>,
    current: Option<&StoredVersion>,
    res_type: &str,
    id: &str,
) -> Result<(), GatewayError> {
    let Some(expected) = if_match else {
        return Ok(());
    };
    match current {
        Some(stored) if stored.version == expected && !stored.is_deleted() => Ok(()),
        other => Err(GatewayError::VersionConflict {
            resource: format!("{res_type}/{id}"),
            expected: expected.to_string(),
            current: other.map_or("none".into(), |stored| {
                if stored.is_deleted() {
                    format!("{} (deleted)", stored.version)
                } else {
                    stored.version.to_string()
                }
            }),
        }),
    }
}

fn live_version(current: Option<StoredVersion>, what: &str) -> Result<StoredVersion, GatewayError> {
    match current {
        None => Err(GatewayError::NotFound(what.to_owned())),
        Some(stored) if stored.is_deleted() => Err(GatewayError::Gone(what.to_owned())),
        Some(stored) => Ok(stored),
    }
}

fn found(stored: Option<StoredVersion>, what: &str) -> Result<EntryOutcome, GatewayError> {
    let stored = live_version(stored, what)?;
    Ok(EntryOutcome {
        status: 200,
        stored: Some(stored),
        note: None,
        wrote: false,
        issues: Vec::new(),
    })
}

fn written(status: u16, stored: StoredVersion) -> EntryOutcome {
    EntryOutcome {
        status,
        stored: Some(stored),
        note: None,
        wrote: true,
        issues: Vec::new(),
    }
}

fn unchanged(live: StoredVersion) -> EntryOutcome {
    EntryOutcome {
        status: 200,
        stored: Some(live),
        note: Some("content unchanged; no new version".into()),
        wrote: false,
        issues: Vec::new(),
    }
}

fn nothing_done(status: u16, note: &str) -> EntryOutcome {
    EntryOutcome {
        status,
        stored: None,
        note: Some(note.to_owned()),
        wrote: false,
        issues: Vec::new(),
    }
}

/// Stamps `meta`, serialises and writes `resource` as `version`.
fn write_version(
    tx: &mut dyn StoreTx,
    mut resource: Resource,
    version: u64,
    method: WriteMethod,
    now: Instant,
) -> Result<StoredVersion, GatewayError> {
    resource.set_version_meta(&version.to_string(), &now.to_fhir());
    let identifiers = identifier_keys(resource.as_value());
    let search = extract_index(resource.as_value());
    let stored = StoredVersion {
        res_type: resource.resource_type().to_owned(),
        id: resource.id().unwrap_or_default().to_owned(),
        version,
        last_updated: now,
        method,
        body: Some(resource.to_json_vec().into()),
    };
    tx.write(NewVersion {
        stored: stored.clone(),
        identifiers,
        search,
    })?;
    Ok(stored)
}

/// True when `resource` equals the stored version apart from `meta.versionId`/`lastUpdated`.
fn same_content(stored: &StoredVersion, resource: &Resource) -> bool {
    let Some(body) = stored.body.as_deref() else {
        return false;
    };
    let Ok(stored_value) = serde_json::from_slice::<Value>(body) else {
        return false;
    };
    without_version_meta(stored_value) == without_version_meta(resource.as_value().clone())
}

fn without_version_meta(mut value: Value) -> Value {
    if let Some(object) = value.as_object_mut() {
        let now_empty = match object.get_mut("meta").and_then(Value::as_object_mut) {
            Some(meta) => {
                meta.remove("versionId");
                meta.remove("lastUpdated");
                meta.is_empty()
            }
            None => false,
        };
        if now_empty {
            object.remove("meta");
        }
    }
    value
}
