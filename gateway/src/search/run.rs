//! Runs a parsed search: the match list from the store (complete, in order, remembered so
//! that pages stay stable while writes continue), one page of resources, `_include` and
//! `_revinclude` (with `:iterate`), and the `searchset` Bundle with its links.

use super::parse::{Include, SearchRequest, Summary, TotalMode};
use super::subset::Subset;
use super::terminology::resolve_terminology;
use crate::fhir::bundle::body_value;
use crate::fhir::ids::new_id;
use crate::store::{SearchQuery, Store, StoredVersion};
use crate::GatewayError;
use moka::sync::Cache;
use serde_json::{json, Map, Value};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tsunagi_profiles::search::{SearchParamType, SearchParameters};

/// The most matches one search may have (a larger one is refused: narrow it).
pub const MAX_MATCHES: usize = 100_000;
/// Rounds of `:iterate`.
const MAX_ITERATIONS: usize = 4;
/// The most resources `_include`/`_revinclude` add to one page.
const MAX_INCLUDED: usize = 1_000;

/// Match lists of searches with further pages, kept 30 minutes after their last use.
pub struct SearchPages {
    lists: Cache<String, Arc<PagedSearch>>,
}

/// What the next pages of a search need.
pub struct PagedSearch {
    /// The parsed search (for includes and links).
    pub request: SearchRequest,
    /// Every match, in order, as `(type, id)`.
    pub refs: Vec<(String, String)>,
    /// The path the `self` link of the first page repeats (`Patient`, `Patient/1/$everything`).
    pub path: String,
}

/// What a search page comes from.
pub enum SearchSource {
    /// A new search of one type: the store finds the matches.
    Request(SearchRequest),
    /// A new search whose matches are already known (`$everything`, assembled per type).
    Matches(PagedSearch),
    /// A further page of a remembered search (`page.key`).
    Remembered,
}

impl Default for SearchPages {
    fn default() -> Self {
        SearchPages {
            lists: Cache::builder()
                .max_capacity(1_000)
                .time_to_idle(Duration::from_secs(30 * 60))
                .build(),
        }
    }
}

/// Where a page starts, how long it is, and which search it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// `_getpages`: the remembered search, for every page after the first.
    pub key: Option<String>,
    /// `_offset`.
    pub offset: usize,
    /// The page size.
    pub count: usize,
}

/// Runs `request` (or the remembered search `page.key`) and returns the `searchset` Bundle.
pub async fn run_search(
    store: &dyn Store,
    pages: &SearchPages,
    definitions: &SearchParameters,
    source: SearchSource,
    page: PageRequest,
    base_url: &str,
) -> Result<Value, GatewayError> {
    // A new search reads its first page with its matches (one trip to the store).
    let mut first_page = None;
    let fresh = match (&page.key, source) {
        (Some(_), _) | (None, SearchSource::Remembered) => None,
        (None, SearchSource::Matches(search)) => Some(search),
        (None, SearchSource::Request(request)) => {
            let window = page.offset..page.offset.saturating_add(page.count);
            let (ids, versions) = find_with_page(store, &request, window).await?;
            first_page = Some(versions);
            let refs = ids
                .into_iter()
                .map(|id| (request.res_type.clone(), id))
                .collect();
            Some(PagedSearch {
                path: request.res_type.clone(),
                request,
                refs,
            })
        }
    };
    let (search, key) = match (fresh, &page.key) {
        (Some(search), _) => {
            let search = Arc::new(search);
            let key = (search.refs.len() > page.count).then(|| {
                let key = new_id();
                pages.lists.insert(key.clone(), Arc::clone(&search));
                key
            });
            (search, key)
        }
        (None, Some(key)) => {
            let search = pages.lists.get(key).ok_or_else(|| {
                GatewayError::Gone(format!(
                    "search page set {key} has expired; run the search again"
                ))
            })?;
            (search, Some(key.clone()))
        }
        (None, None) => return Err(GatewayError::Unprocessable("no search given".into())),
    };
    let request = &search.request;
    let total = search.refs.len();
    let mut bundle = Map::new();
    bundle.insert("resourceType".into(), json!("Bundle"));
    bundle.insert("id".into(), json!(new_id()));
    bundle.insert("type".into(), json!("searchset"));
    if request.total == TotalMode::Accurate || request.summary == Summary::Count {
        bundle.insert("total".into(), json!(total));
    }
    bundle.insert(
        "link".into(),
        Value::Array(links(&search, key.as_deref(), &page, base_url)),
    );
    if request.summary == Summary::Count {
        return Ok(Value::Object(bundle));
    }
    let start = page.offset.min(total);
    let end = (start + page.count).min(total);
    let refs = &search.refs[start..end];
    let found = match first_page {
        Some(versions) => versions,
        None => store.read_many(refs).await?,
    };
    let matches = in_order(found, refs);
    let included = included(store, definitions, request, &matches).await?;
    let mut entries = Vec::with_capacity(matches.len() + included.len());
    let subset = request.subset();
    let included_subset = match subset {
        Subset::Elements(_) => Subset::Full,
        ref other => other.clone(),
    };
    for stored in &matches {
        entries.push(entry(stored, "match", base_url, &subset));
    }
    for stored in &included {
        entries.push(entry(stored, "include", base_url, &included_subset));
    }
    // R4 JSON has no empty arrays: an empty page has no `entry` at all.
    if !entries.is_empty() {
        bundle.insert("entry".into(), Value::Array(entries));
    }
    Ok(Value::Object(bundle))
}

/// Ids of every `res_type` resource meeting `request`'s criteria, in its order; refused past
/// [`MAX_MATCHES`].
pub async fn find_all(
    store: &dyn Store,
    res_type: &str,
    request: &SearchRequest,
) -> Result<Vec<String>, GatewayError> {
    let query = store_query(store, res_type, request).await?;
    within_limit(store.search(&query).await?)
}

/// [`find_all`] of `request.res_type`, with the current versions of the matches at `page`.
async fn find_with_page(
    store: &dyn Store,
    request: &SearchRequest,
    page: std::ops::Range<usize>,
) -> Result<(Vec<String>, Vec<StoredVersion>), GatewayError> {
    let query = store_query(store, &request.res_type, request).await?;
    let (ids, versions) = store.search_with_page(&query, page).await?;
    Ok((within_limit(ids)?, versions))
}

/// The store's query for `request` (terminology conditions resolved).
async fn store_query(
    store: &dyn Store,
    res_type: &str,
    request: &SearchRequest,
) -> Result<SearchQuery, GatewayError> {
    let mut criteria = request.criteria.clone();
    resolve_terminology(store, &mut criteria).await?;
    Ok(SearchQuery {
        res_type: res_type.to_owned(),
        criteria,
        sort: request.sort.clone(),
        limit: MAX_MATCHES + 1,
    })
}

fn within_limit(ids: Vec<String>) -> Result<Vec<String>, GatewayError> {
    if ids.len() > MAX_MATCHES {
        return Err(GatewayError::TooCostly(format!(
            "the search matches more than {MAX_MATCHES} resources: narrow it"
        )));
    }
    Ok(ids)
}

/// The stored versions in the order of `refs` (a resource deleted since the match is left out).
fn in_order(found: Vec<StoredVersion>, refs: &[(String, String)]) -> Vec<StoredVersion> {
    let mut found: std::collections::HashMap<(String, String), StoredVersion> = found
        .into_iter()
        .map(|stored| ((stored.res_type.clone(), stored.id.clone()), stored))
        .collect();
    refs.iter().filter_map(|key| found.remove(key)).collect()
}

async fn included(
    store: &dyn Store,
    definitions: &SearchParameters,
    request: &SearchRequest,
    matches: &[StoredVersion],
) -> Result<Vec<StoredVersion>, GatewayError> {
    let mut seen: HashSet<(String, String)> = matches
        .iter()
        .map(|stored| (stored.res_type.clone(), stored.id.clone()))
        .collect();
    let mut added: Vec<StoredVersion> = Vec::new();
    let mut frontier: Vec<StoredVersion> = matches.to_vec();
    for round in 0..=MAX_ITERATIONS {
        let mut found: Vec<(String, String)> = Vec::new();
        for include in &request.includes {
            if round > 0 && !include.iterate {
                continue;
            }
            found.extend(forward(store, definitions, include, &frontier).await?);
        }
        for include in &request.revincludes {
            if round > 0 && !include.iterate {
                continue;
            }
            found.extend(reverse(store, definitions, include, &frontier).await?);
        }
        let new: Vec<(String, String)> = found
            .into_iter()
            .filter(|key| seen.insert(key.clone()))
            .take(MAX_INCLUDED.saturating_sub(added.len()))
            .collect();
        if new.is_empty() {
            break;
        }
        frontier = store.read_many(&new).await?;
        added.extend(frontier.iter().cloned());
    }
    Ok(added)
}

fn reference_param_known(
    definitions: &SearchParameters,
    res_type: &str,
    param: &str,
) -> Result<(), GatewayError> {
    if param == "*" {
        return Ok(());
    }
    match definitions.param(res_type, param) {
        Some(definition) if definition.kind == SearchParamType::Reference => Ok(()),
        _ => Err(GatewayError::UnknownParameter {
            name: "_include".into(),
            reason: format!("'{param}' is not a reference parameter of {res_type}"),
        }),
    }
}

/// `_include=Source:param[:Target]` over the resources of type Source in `from`.
async fn forward(
    store: &dyn Store,
    definitions: &SearchParameters,
    include: &Include,
    from: &[StoredVersion],
) -> Result<Vec<(String, String)>, GatewayError> {
    reference_param_known(definitions, &include.source, &include.param)?;
    let ids: Vec<String> = from
        .iter()
        .filter(|stored| stored.res_type == include.source)
        .map(|stored| stored.id.clone())
        .collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let param = (include.param != "*").then_some(include.param.as_str());
    Ok(store
        .references_from(&include.source, &ids, param, include.target.as_deref())
        .await?)
}

/// `_revinclude=Source:param`: Source resources whose `param` points at one in `from`.
async fn reverse(
    store: &dyn Store,
    definitions: &SearchParameters,
    include: &Include,
    from: &[StoredVersion],
) -> Result<Vec<(String, String)>, GatewayError> {
    reference_param_known(definitions, &include.source, &include.param)?;
    let targets: Vec<(String, String)> = from
        .iter()
        .filter(|stored| {
            include
                .target
                .as_ref()
                .is_none_or(|target| *target == stored.res_type)
        })
        .map(|stored| (stored.res_type.clone(), stored.id.clone()))
        .collect();
    if targets.is_empty() {
        return Ok(Vec::new());
    }
    let ids = store
        .references_to(&include.source, &include.param, &targets)
        .await?;
    Ok(ids
        .into_iter()
        .map(|id| (include.source.clone(), id))
        .collect())
}

fn entry(stored: &StoredVersion, mode: &str, base_url: &str, subset: &Subset) -> Value {
    let mut entry = Map::new();
    entry.insert(
        "fullUrl".into(),
        json!(format!("{base_url}/{}", stored.reference())),
    );
    if let Some(resource) = body_value(stored) {
        entry.insert("resource".into(), subset.apply(resource));
    }
    entry.insert("search".into(), json!({ "mode": mode }));
    Value::Object(entry)
}

fn links(
    search: &PagedSearch,
    key: Option<&str>,
    page: &PageRequest,
    base_url: &str,
) -> Vec<Value> {
    let request = &search.request;
    let path = format!("{base_url}/{}", search.path);
    let query: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(request.used.iter().filter(|(name, _)| name != "_count"))
        .append_pair("_count", &page.count.to_string())
        .finish();
    let mut links = Vec::new();
    match key {
        Some(key) => {
            let at = |offset: usize| {
                format!(
                    "{base_url}?_getpages={key}&_offset={offset}&_count={}",
                    page.count
                )
            };
            let self_url = if page.offset == 0 && page.key.is_none() {
                format!("{path}?{query}")
            } else {
                at(page.offset)
            };
            links.push(json!({ "relation": "self", "url": self_url }));
            links.push(json!({ "relation": "first", "url": at(0) }));
            if page.offset > 0 {
                links.push(json!({ "relation": "previous", "url": at(page.offset.saturating_sub(page.count)) }));
            }
            if page.offset + page.count < search.refs.len() {
                links.push(json!({ "relation": "next", "url": at(page.offset + page.count) }));
            }
        }
        None => links.push(json!({ "relation": "self", "url": format!("{path}?{query}") })),
    }
    links
}
