//! Batch and transaction Bundles in, and the Bundles the server answers with
//! (transaction-response, batch-response, history).

use super::criteria::{criteria_match, identifier_keys, parse_criteria};
use super::engine::{execute, resolve_conditional_update, unique_match};
use super::entry::{status_text, EntryOutcome, EntryRequest, Method, PreferReturn, Target};
use super::ids::{etag, new_id, parse_version_tag};
use super::references::rewrite_references;
use crate::clock::Instant;
use crate::outcome::{operation_outcome, Issue};
use crate::store::{HistoryPage, IdentifierKey, StoreTx, StoredVersion};
use crate::GatewayError;
use base64::Engine as _;
use serde_json::{json, Map, Value};
use std::collections::{HashMap, HashSet};
use tsunagi_profiles::search::extract_index;
use tsunagi_profiles::{parse_json_value, ParseLimits, Resource};

/// Whether a Bundle is all-or-nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BundleKind {
    /// One store transaction; any failure fails all.
    Transaction,
    /// Each entry on its own.
    Batch,
}

/// One parsed entry of a batch or transaction.
#[derive(Debug, Clone)]
pub struct BundleEntry {
    /// `entry.fullUrl`, the name other entries may reference it by.
    pub full_url: Option<String>,
    /// The interaction.
    pub request: EntryRequest,
}

/// Splits a batch/transaction Bundle into entries. An entry that cannot be parsed keeps its
/// place as an error (a batch answers it alone; a transaction fails on it).
pub fn parse_bundle(
    bundle: Resource,
    max_entries: usize,
    base_url: &str,
) -> Result<(BundleKind, Vec<Result<BundleEntry, GatewayError>>), GatewayError> {
    if bundle.resource_type() != "Bundle" {
        return Err(GatewayError::invalid(
            format!("expected a Bundle, got a {}", bundle.resource_type()),
            "resourceType",
        ));
    }
    let mut value = bundle.into_value();
    let kind = match value.get("type").and_then(Value::as_str) {
        Some("transaction") => BundleKind::Transaction,
        Some("batch") => BundleKind::Batch,
        other => {
            return Err(GatewayError::invalid(
                format!(
                    "Bundle.type must be 'transaction' or 'batch' here, not '{}'",
                    other.unwrap_or("")
                ),
                "Bundle.type",
            ))
        }
    };
    let entries = match value.get_mut("entry").map(Value::take) {
        Some(Value::Array(entries)) => entries,
        _ => Vec::new(),
    };
    if entries.len() > max_entries {
        return Err(GatewayError::TooCostly(format!(
            "the Bundle has {} entries; the limit is {max_entries}",
            entries.len()
        )));
    }
    let parsed = entries
        .into_iter()
        .enumerate()
        .map(|(index, entry)| parse_entry(entry, base_url).map_err(|error| error.in_entry(index)))
        .collect();
    Ok((kind, parsed))
}

fn parse_entry(mut entry: Value, base_url: &str) -> Result<BundleEntry, GatewayError> {
    let full_url = entry
        .get("fullUrl")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let request = entry.get("request").cloned().unwrap_or(Value::Null);
    let text = |name: &str| request.get(name).and_then(Value::as_str);
    let method_text = text("method")
        .ok_or_else(|| GatewayError::invalid("entry has no request.method", "request.method"))?;
    let method = Method::parse(method_text).ok_or_else(|| {
        GatewayError::invalid(
            format!("'{method_text}' is not a request method"),
            "request.method",
        )
    })?;
    let url = text("url")
        .ok_or_else(|| GatewayError::invalid("entry has no request.url", "request.url"))?;
    let relative = relative_url(url, base_url)?;
    let mut parsed = EntryRequest::new(method, Target::parse(relative, "request.url")?);
    if let Some(tag) = text("ifMatch") {
        parsed.if_match = Some(parse_version_tag(tag, "request.ifMatch")?);
    }
    parsed.if_none_exist = text("ifNoneExist").map(str::to_owned);
    let resource = entry.get_mut("resource").map(Value::take);
    match (method, resource) {
        (Method::Patch, Some(binary)) => parsed.patch = Some(patch_from_binary(&binary)?),
        (Method::Patch, None) => {
            return Err(GatewayError::invalid(
                "a PATCH entry needs a Binary resource",
                "resource",
            ))
        }
        (Method::Post | Method::Put, Some(resource)) => {
            let resource =
                Resource::from_checked_value(resource).map_err(|source| GatewayError::Model {
                    source,
                    location: Some("resource".into()),
                })?;
            parsed.resource = Some(resource);
        }
        (Method::Post | Method::Put, None) => {
            return Err(GatewayError::invalid(
                format!("a {method_text} entry needs a resource"),
                "resource",
            ))
        }
        (Method::Get | Method::Delete, _) => {}
    }
    Ok(BundleEntry {
        full_url,
        request: parsed,
    })
}

/// `request.url` relative to the server base; absolute URLs must point at this server.
fn relative_url<'a>(url: &'a str, base_url: &str) -> Result<&'a str, GatewayError> {
    if !url.contains("://") {
        return Ok(url.trim_start_matches('/'));
    }
    url.strip_prefix(base_url)
        .map(|rest| rest.trim_start_matches('/'))
        .ok_or_else(|| {
            GatewayError::invalid(
                format!("request.url '{url}' points outside this server ({base_url})"),
                "request.url",
            )
        })
}

/// A transaction PATCH carries its JSON Patch as a Binary (R4 http.html §3.1.0.7.1).
fn patch_from_binary(binary: &Value) -> Result<Value, GatewayError> {
    let content_type = binary
        .get("contentType")
        .and_then(Value::as_str)
        .unwrap_or("");
    if binary.get("resourceType").and_then(Value::as_str) != Some("Binary")
        || !content_type.starts_with("application/json-patch+json")
    {
        return Err(GatewayError::invalid(
            "a PATCH entry's resource must be a Binary with contentType application/json-patch+json (FHIRPath Patch is not supported)",
            "resource",
        ));
    }
    let data = binary.get("data").and_then(Value::as_str).unwrap_or("");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(|error| {
            GatewayError::invalid(
                format!("Binary.data is not base64: {error}"),
                "resource.data",
            )
        })?;
    serde_json::from_slice(&bytes).map_err(|error| {
        GatewayError::invalid(
            format!("Binary.data is not a JSON Patch document: {error}"),
            "resource.data",
        )
    })
}

/// A resource this transaction will create or update, as conditional matching sees it.
struct Pending {
    res_type: String,
    id: String,
    identifiers: Vec<IdentifierKey>,
    /// The resource, for search criteria beyond `identifier`/`_id` (indexed on demand).
    resource: Value,
}

/// What the identity pass learns about a transaction.
#[derive(Default)]
struct Identities {
    /// `fullUrl` → `Type/id`.
    assigned: HashMap<String, String>,
    /// `Type/id` of every write, to refuse a resource written twice.
    written: HashSet<String>,
    /// Resources that will exist once the transaction commits.
    pending: Vec<Pending>,
}

impl Identities {
    /// Ids of pending resources of `res_type` matching `query`.
    fn pending_matches(&self, res_type: &str, criteria: &crate::store::Criteria) -> Vec<String> {
        self.pending
            .iter()
            .filter(|pending| {
                pending.res_type == res_type && {
                    let entries = if criteria.clauses.is_empty() {
                        Vec::new()
                    } else {
                        extract_index(&pending.resource)
                    };
                    criteria_match(criteria, &pending.id, &pending.identifiers, &entries)
                }
            })
            .map(|pending| pending.id.clone())
            .collect()
    }
}

/// Runs a transaction's entries inside one store transaction: assigns ids, rewrites
/// references, then executes in the R4 order (DELETE, POST, PUT/PATCH, GET). Any error fails
/// the whole transaction and names its entry.
pub fn run_transaction(
    tx: &mut dyn StoreTx,
    mut entries: Vec<BundleEntry>,
    now: Instant,
) -> Result<Vec<EntryOutcome>, GatewayError> {
    let mut identities = Identities::default();
    for (index, entry) in entries.iter_mut().enumerate() {
        assign_identity(tx, entry, &mut identities).map_err(|error| error.in_entry(index))?;
    }
    for (index, entry) in entries.iter_mut().enumerate() {
        if let Some(resource) = entry.request.resource.as_mut() {
            rewrite_references(resource, &identities.assigned, &mut |res_type, query| {
                resolve_conditional_reference(tx, &identities, res_type, query)
            })
            .map_err(|error| error.in_entry(index))?;
        }
    }
    let mut order: Vec<(u8, usize)> = entries
        .iter()
        .enumerate()
        .map(|(index, entry)| (entry.request.method.transaction_order(), index))
        .collect();
    order.sort_unstable();
    let mut requests: Vec<Option<EntryRequest>> = entries
        .into_iter()
        .map(|entry| Some(entry.request))
        .collect();
    let mut outcomes: Vec<Option<EntryOutcome>> = vec![None; requests.len()];
    for (_, index) in order {
        let Some(request) = requests[index].take() else {
            continue;
        };
        let outcome = execute(tx, request, now).map_err(|error| error.in_entry(index))?;
        outcomes[index] = Some(outcome);
    }
    Ok(outcomes.into_iter().flatten().collect())
}

/// Runs one batch entry in its own store transaction: conditional references are resolved,
/// and a `urn:uuid:` reference is refused (batch entries cannot refer to each other).
pub fn run_batch_entry(
    tx: &mut dyn StoreTx,
    mut entry: BundleEntry,
    now: Instant,
) -> Result<EntryOutcome, GatewayError> {
    if let Some(resource) = entry.request.resource.as_mut() {
        let identities = Identities::default();
        rewrite_references(resource, &identities.assigned, &mut |res_type, query| {
            resolve_conditional_reference(tx, &identities, res_type, query)
        })?;
    }
    execute(tx, entry.request, now)
}

/// A conditional reference must match exactly one resource, stored or created by this
/// transaction.
fn resolve_conditional_reference(
    tx: &mut dyn StoreTx,
    identities: &Identities,
    res_type: &str,
    query: &str,
) -> Result<String, GatewayError> {
    let criteria = parse_criteria(res_type, query, "resource")?;
    let mut matches = tx.find(res_type, &criteria, 2)?;
    for id in identities.pending_matches(res_type, &criteria) {
        if !matches.contains(&id) {
            matches.push(id);
        }
    }
    match matches.as_slice() {
        [id] => Ok(format!("{res_type}/{id}")),
        [] => Err(GatewayError::NoMatch(format!(
            "conditional reference '{res_type}?{query}' matches no resource"
        ))),
        _ => Err(GatewayError::MultipleMatches(format!(
            "conditional reference '{res_type}?{query}' matches more than one resource"
        ))),
    }
}

/// Decides the `Type/id` each entry writes, records `fullUrl → Type/id`, and refuses a
/// transaction that writes one resource twice. Conditional targets are resolved here, before
/// anything executes, so references and execution agree on them. A conditional create that
/// matches a resource created earlier in the same transaction becomes a read of it.
fn assign_identity(
    tx: &mut dyn StoreTx,
    entry: &mut BundleEntry,
    identities: &mut Identities,
) -> Result<(), GatewayError> {
    let request = &mut entry.request;
    match (request.method, request.target.clone()) {
        (Method::Put, Target::Conditional(..)) => {
            *request = resolve_conditional_update(tx, request.clone())?;
        }
        (Method::Patch, Target::Conditional(res_type, query)) => {
            let id = unique_match(tx, &res_type, &query, "request.url")?.ok_or_else(|| {
                GatewayError::NoMatch(format!(
                    "conditional patch '{res_type}?{query}' matches no resource"
                ))
            })?;
            request.target = Target::Instance(res_type, id);
        }
        (Method::Delete, Target::Conditional(res_type, query)) => {
            if let Some(id) = unique_match(tx, &res_type, &query, "request.url")? {
                request.target = Target::Instance(res_type, id);
            }
        }
        (Method::Post, Target::Type(res_type)) => {
            if let Some(query) = request.if_none_exist.clone() {
                let stored = unique_match(tx, &res_type, &query, "request.ifNoneExist")?;
                let existing = match stored {
                    // Already stored: the create answers with it (200) and writes nothing.
                    Some(id) => Some(id),
                    None => {
                        let criteria = parse_criteria(&res_type, &query, "request.ifNoneExist")?;
                        match identities.pending_matches(&res_type, &criteria).as_slice() {
                            [] => None,
                            // Created by an earlier entry: answer with it, write nothing.
                            [earlier] => {
                                *request = EntryRequest::new(
                                    Method::Get,
                                    Target::Instance(res_type.clone(), earlier.clone()),
                                );
                                Some(earlier.clone())
                            }
                            _ => {
                                return Err(GatewayError::MultipleMatches(format!(
                                    "If-None-Exist '{query}' matches several entries of this transaction"
                                )))
                            }
                        }
                    }
                };
                if let Some(existing) = existing {
                    request.assigned_id = Some(existing.clone());
                    if let Some(full_url) = &entry.full_url {
                        identities
                            .assigned
                            .insert(full_url.clone(), format!("{res_type}/{existing}"));
                    }
                    return Ok(());
                }
            }
            request.assigned_id = Some(new_id());
        }
        _ => {}
    }
    let identity = match (&request.method, &request.target, &request.assigned_id) {
        (Method::Post, Target::Type(res_type), Some(id)) => Some((res_type.clone(), id.clone())),
        (Method::Put | Method::Patch | Method::Delete, Target::Instance(res_type, id), _) => {
            Some((res_type.clone(), id.clone()))
        }
        _ => None,
    };
    let Some((res_type, id)) = identity else {
        return Ok(());
    };
    let reference = format!("{res_type}/{id}");
    if !identities.written.insert(reference.clone()) {
        return Err(GatewayError::invalid(
            format!("{reference} is written by more than one entry of this transaction"),
            "request.url",
        ));
    }
    if let Some(resource) = &request.resource {
        identities.pending.push(Pending {
            res_type,
            id,
            identifiers: identifier_keys(resource.as_value()),
            resource: resource.as_value().clone(),
        });
    }
    if let Some(full_url) = &entry.full_url {
        identities.assigned.insert(full_url.clone(), reference);
    }
    Ok(())
}

/// Builds a transaction-response or batch-response Bundle.
pub fn response_bundle(
    kind: BundleKind,
    results: &[Result<EntryOutcome, GatewayError>],
    base_url: &str,
    prefer: PreferReturn,
) -> Value {
    let entries: Vec<Value> = results
        .iter()
        .map(|result| match result {
            Ok(outcome) => outcome_entry(outcome, base_url, prefer),
            Err(error) => json!({
                "response": {
                    "status": status_text(error.status()),
                    "outcome": operation_outcome(&error.issues()),
                }
            }),
        })
        .collect();
    let bundle_type = match kind {
        BundleKind::Transaction => "transaction-response",
        BundleKind::Batch => "batch-response",
    };
    without_empty_entry(json!({
        "resourceType": "Bundle",
        "id": new_id(),
        "type": bundle_type,
        "entry": entries,
    }))
}

/// Drops `entry` when it is empty: R4 JSON has no empty arrays.
fn without_empty_entry(mut bundle: Value) -> Value {
    if bundle["entry"].as_array().is_some_and(Vec::is_empty) {
        if let Some(fields) = bundle.as_object_mut() {
            fields.remove("entry");
        }
    }
    bundle
}

fn outcome_entry(outcome: &EntryOutcome, base_url: &str, prefer: PreferReturn) -> Value {
    let mut response = Map::new();
    response.insert("status".into(), json!(status_text(outcome.status)));
    let mut entry = Map::new();
    if let Some(stored) = &outcome.stored {
        entry.insert(
            "fullUrl".into(),
            json!(format!("{base_url}/{}", stored.reference())),
        );
        if prefer == PreferReturn::Representation {
            if let Some(resource) = body_value(stored) {
                entry.insert("resource".into(), resource);
            }
        }
        if outcome.wrote || outcome.status == 201 {
            response.insert(
                "location".into(),
                json!(format!(
                    "{}/_history/{}",
                    stored.reference(),
                    stored.version
                )),
            );
        }
        response.insert("etag".into(), json!(etag(stored.version)));
        response.insert("lastModified".into(), json!(stored.last_updated.to_fhir()));
    }
    if prefer == PreferReturn::OperationOutcome || !outcome.issues.is_empty() {
        let note = outcome
            .note
            .clone()
            .unwrap_or_else(|| status_text(outcome.status));
        let mut issues = vec![Issue::information(note)];
        issues.extend(outcome.issues.iter().cloned());
        response.insert("outcome".into(), operation_outcome(&issues));
    }
    entry.insert("response".into(), Value::Object(response));
    Value::Object(entry)
}

/// The resource JSON of a stored version, if it has one.
pub fn body_value(stored: &StoredVersion) -> Option<Value> {
    stored
        .body
        .as_deref()
        .and_then(|body| serde_json::from_slice(body).ok())
}

/// Builds a history Bundle for one page; `links` are (relation, url) pairs.
pub fn history_bundle(page: &HistoryPage, base_url: &str, links: &[(&str, String)]) -> Value {
    let entries: Vec<Value> = page
        .versions
        .iter()
        .map(|stored| {
            let mut entry = Map::new();
            entry.insert(
                "fullUrl".into(),
                json!(format!("{base_url}/{}", stored.reference())),
            );
            if let Some(resource) = body_value(stored) {
                entry.insert("resource".into(), resource);
            }
            let url = match stored.method {
                crate::store::WriteMethod::Post => stored.res_type.clone(),
                _ => stored.reference(),
            };
            let status = match (stored.is_deleted(), stored.version) {
                (true, _) => 204,
                (false, 1) => 201,
                (false, _) => 200,
            };
            entry.insert(
                "request".into(),
                json!({"method": stored.method.as_str(), "url": url}),
            );
            entry.insert(
                "response".into(),
                json!({
                    "status": status_text(status),
                    "etag": etag(stored.version),
                    "lastModified": stored.last_updated.to_fhir(),
                }),
            );
            Value::Object(entry)
        })
        .collect();
    let links: Vec<Value> = links
        .iter()
        .map(|(relation, url)| json!({"relation": relation, "url": url}))
        .collect();
    without_empty_entry(json!({
        "resourceType": "Bundle",
        "id": new_id(),
        "type": "history",
        "total": page.total,
        "link": links,
        "entry": entries,
    }))
}

/// Parses a JSON batch/transaction Bundle with the same limits and strict R4 check as
/// [`Resource::from_json`], but checks the entries' resources on two threads: the model check
/// is the largest single cost of ingest, and each entry can be checked on its own. A failure
/// names the entry (`Bundle.entry[i].resource`).
pub fn parse_json_bundle(bytes: &[u8], limits: &ParseLimits) -> Result<Resource, GatewayError> {
    const PARALLEL_FROM: usize = 16;
    let mut value = parse_json_value(bytes, limits)?;
    let entry_count = value
        .get("entry")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    if value.get("resourceType").and_then(Value::as_str) != Some("Bundle")
        || entry_count < PARALLEL_FROM
    {
        return Ok(Resource::from_value(value)?);
    }
    // Lift the entry resources out, check the Bundle around them, then each of them.
    let mut resources: Vec<(usize, Value)> = Vec::with_capacity(entry_count);
    if let Some(Value::Array(entries)) = value.get_mut("entry") {
        for (index, entry) in entries.iter_mut().enumerate() {
            if let Some(resource) = entry
                .as_object_mut()
                .and_then(|entry| entry.remove("resource"))
            {
                resources.push((index, resource));
            }
        }
    }
    let shell = Resource::from_value(value)?;
    // Each resource is handed to the model and taken back: no copies.
    let second = resources.split_off(resources.len().div_ceil(2));
    let check = |part: Vec<(usize, Value)>| -> Result<Vec<(usize, Value)>, GatewayError> {
        part.into_iter()
            .map(|(index, resource)| match Resource::from_value(resource) {
                Ok(checked) => Ok((index, checked.into_value())),
                Err(source) => Err(GatewayError::Model {
                    source,
                    location: Some(format!("Bundle.entry[{index}].resource")),
                }),
            })
            .collect()
    };
    let (first, second) = std::thread::scope(|scope| {
        let other = scope.spawn(|| check(second));
        let mine = check(resources);
        let theirs = other.join().unwrap_or_else(|_| {
            Err(GatewayError::Unprocessable(
                "the Bundle check failed".into(),
            ))
        });
        (mine, theirs)
    });
    let checked = first?.into_iter().chain(second?);
    let mut value = shell.into_value();
    if let Some(Value::Array(entries)) = value.get_mut("entry") {
        for (index, resource) in checked {
            if let Some(entry) = entries.get_mut(index).and_then(Value::as_object_mut) {
                entry.insert("resource".into(), resource);
            }
        }
    }
    Ok(Resource::from_checked_value(value)?)
}
