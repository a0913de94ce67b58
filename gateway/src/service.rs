//! [`Gateway`]: the FHIR server's operations over a store and a cache, independent of HTTP.

use crate::cache::ResourceCache;
use crate::clock::Instant;
use crate::config::{Config, ConfigError};
use crate::error::in_entry_resource;
use crate::fhir::bundle::{
    history_bundle, parse_bundle, response_bundle, run_batch_entry, run_transaction, BundleEntry,
    BundleKind,
};
use crate::fhir::capability::capability_statement;
use crate::fhir::engine::execute;
use crate::fhir::entry::{EntryOutcome, EntryRequest, PreferReturn};
use crate::ingest::{checked_bundle, SourceFormat, SourceSettings};
use crate::links::link_entries;
use crate::metrics::{Metrics, PoolStats};
use crate::outcome::Issue;
use crate::referral::keys::ReferralKeys;
use crate::search::run::MAX_MATCHES;
use crate::search::{
    find_all, parse_search, run_search, PageRequest, PagedSearch, SearchPages, SearchSource,
};
use crate::store::{Clause, Condition, IndexKind};
use crate::store::{HistoryQuery, HistoryScope, Store, StoreTx, StoredVersion};
use crate::validation::WriteValidation;
use crate::GatewayError;
use serde_json::Value;
use std::sync::Arc;
use tsunagi_adapters::Conversion;
use tsunagi_profiles::search::compartments::{patient_compartment, patient_compartment_params};
use tsunagi_profiles::search::{extract_index, SearchParameters};
use tsunagi_profiles::{ParseLimits, Resource};

/// One running FHIR server's state: configuration, store, cache.
pub struct Gateway {
    config: Config,
    store: Arc<dyn Store>,
    cache: ResourceCache,
    base_url: String,
    capability: Value,
    source: SourceSettings,
    pages: SearchPages,
    validation: Arc<WriteValidation>,
    metrics: Metrics,
    referral_keys: Arc<ReferralKeys>,
}

/// What [`Gateway::ingest`] stored: the transaction-response Bundle and the validation issues
/// (mode `warn`) of the resources it wrote, located as `Bundle.entry[i].resource…`.
#[derive(Debug, Clone)]
pub struct Ingested {
    /// The transaction-response Bundle.
    pub response: Value,
    /// Errors and warnings the validator found in the stored resources.
    pub validation: Vec<Issue>,
}

/// The clause "in the compartment of Patient/`patient_id`" for `res_type`.
fn compartment_clause(patient_id: &str, res_type: &str) -> Result<Clause, GatewayError> {
    compartments_clause(&[patient_id.to_owned()], res_type)
}

/// The clause "in the compartment of any of `patient_ids`" for `res_type`.
fn compartments_clause(patient_ids: &[String], res_type: &str) -> Result<Clause, GatewayError> {
    let params = patient_compartment_params(res_type);
    if params.is_empty() {
        return Err(GatewayError::invalid(
            format!("{res_type} is not in the patient compartment"),
            "url",
        ));
    }
    Ok(Clause {
        param: "_compartment".into(),
        kind: IndexKind::Resource,
        any_of: patient_ids
            .iter()
            .map(|patient_id| Condition::ReferencesAny {
                params: params.to_vec(),
                target_type: "Patient".into(),
                target_id: patient_id.clone(),
            })
            .collect(),
        negate: false,
        missing: None,
    })
}

/// Each entry's outcome with the validation issues of its resource (both in entry order).
fn with_issues(outcomes: Vec<EntryOutcome>, issues: Vec<Vec<Issue>>) -> Vec<EntryOutcome> {
    outcomes
        .into_iter()
        .zip(issues.into_iter().chain(std::iter::repeat_with(Vec::new)))
        .map(|(mut outcome, issues)| {
            outcome.issues = issues;
            outcome
        })
        .collect()
}

/// A history request's parameters after validation.
#[derive(Debug, Clone)]
pub struct HistoryParams {
    /// The page to read.
    pub query: HistoryQuery,
    /// The path the links repeat (e.g. `Patient/1/_history`).
    pub path: String,
}

impl Gateway {
    /// A gateway over `store`. Fails when the `[validation]` packages cannot be loaded or a
    /// required profile is unknown (the error names the key): such a server must not start.
    pub fn new(config: Config, store: Arc<dyn Store>) -> Result<Self, ConfigError> {
        let validation = Arc::new(WriteValidation::from_config(&config.validation)?);
        let keys = Arc::new(ReferralKeys::load(&config.referral)?);
        Ok(Gateway::with_validation(config, store, validation).with_referral_keys(keys))
    }

    /// A gateway over `store` sharing a validator already built from `config.validation`.
    pub fn with_validation(
        config: Config,
        store: Arc<dyn Store>,
        validation: Arc<WriteValidation>,
    ) -> Self {
        let base_url = config.base_url();
        let capability = capability_statement(&base_url, &Instant::now().to_fhir());
        Gateway {
            cache: ResourceCache::new(config.cache.max_bytes),
            source: SourceSettings::from_config(&config.source),
            validation,
            config,
            store,
            base_url,
            capability,
            pages: SearchPages::default(),
            metrics: Metrics::new(),
            referral_keys: Arc::new(ReferralKeys::none()),
        }
    }

    /// This gateway with the referral signing key and trusted senders `keys` (loaded from
    /// `[referral]` by [`ReferralKeys::load`]); without it, it can neither sign nor receive.
    pub fn with_referral_keys(mut self, keys: Arc<ReferralKeys>) -> Self {
        self.referral_keys = keys;
        self
    }

    /// The referral signing key and trusted senders.
    pub fn referral_keys(&self) -> &ReferralKeys {
        &self.referral_keys
    }

    /// The operational metrics (`GET /metrics`).
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The store's connection pool, when it has one.
    pub fn store_pool(&self) -> Option<PoolStats> {
        self.store.pool_stats()
    }

    /// The validator and the per-type validation modes.
    pub fn validation(&self) -> &WriteValidation {
        &self.validation
    }

    /// Runs `work` with the validator on tokio's blocking pool: validating a large resource
    /// takes long enough to stall every other connection of an HTTP worker.
    async fn validating<T: Send + 'static>(
        &self,
        work: impl FnOnce(&WriteValidation) -> T + Send + 'static,
    ) -> Result<T, GatewayError> {
        let validation = Arc::clone(&self.validation);
        tokio::task::spawn_blocking(move || work(&validation))
            .await
            .map_err(|error| {
                GatewayError::Store(crate::store::StoreError::Backend(format!(
                    "validation task failed: {error}"
                )))
            })
    }

    /// Validates one interaction's resource off the HTTP worker (see
    /// [`WriteValidation::check_request`]); gives the request back with its issues.
    async fn check_request(
        &self,
        request: EntryRequest,
    ) -> Result<(EntryRequest, Vec<Issue>), GatewayError> {
        if !self.validation.applies_to(&request) {
            return Ok((request, Vec::new()));
        }
        let (request, issues) = self
            .validating(move |validation| {
                let issues = validation.check_request(&request);
                (request, issues)
            })
            .await?;
        Ok((request, issues?))
    }

    /// Validates every entry of a transaction before its store transaction starts: the first
    /// refused entry fails them all (named `Bundle.entry[i]`); otherwise each entry's issues.
    async fn check_transaction(
        &self,
        entries: Vec<BundleEntry>,
    ) -> Result<(Vec<BundleEntry>, Vec<Vec<Issue>>), GatewayError> {
        if !entries
            .iter()
            .any(|entry| self.validation.applies_to(&entry.request))
        {
            let none = entries.iter().map(|_| Vec::new()).collect();
            return Ok((entries, none));
        }
        let (entries, issues) = self
            .validating(move |validation| {
                let issues = entries
                    .iter()
                    .enumerate()
                    .map(|(index, entry)| {
                        validation
                            .check_request(&entry.request)
                            .map_err(|error| error.in_entry(index))
                    })
                    .collect::<Result<Vec<_>, _>>();
                (entries, issues)
            })
            .await?;
        Ok((entries, issues?))
    }

    /// Rebuilds the search index of every current resource from the definitions, in
    /// transactions of 500 resources; `progress` gets the running count. Returns the count.
    pub async fn reindex(&self, progress: &mut dyn FnMut(usize)) -> Result<usize, GatewayError> {
        let mut after: Option<(String, String)> = None;
        let mut done = 0;
        loop {
            let batch = self.store.current_after(after.clone(), 500).await?;
            let Some(last) = batch.last().cloned() else {
                return Ok(done);
            };
            done += batch.len();
            self.store
                .transact(move |tx| {
                    for (res_type, id) in &batch {
                        let Some(stored) = tx.current(res_type, id)? else {
                            continue;
                        };
                        let Some(body) = stored.body.as_deref() else {
                            continue;
                        };
                        let value: Value = serde_json::from_slice(body).map_err(|error| {
                            crate::store::StoreError::Backend(format!(
                                "stored {res_type}/{id} is not JSON: {error}"
                            ))
                        })?;
                        tx.reindex(res_type, id, &extract_index(&value))?;
                    }
                    Ok(())
                })
                .await?;
            progress(done);
            after = Some(last);
        }
    }

    /// The store it runs over (for crate modules that search beyond the REST operations).
    pub(crate) fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    /// The search parameter definitions searches and indexes use.
    pub fn definitions(&self) -> &'static SearchParameters {
        SearchParameters::r4()
    }

    /// Runs a search of `res_type` with the decoded query `params` (a first page), or the next
    /// page of a remembered search (`_getpages` among `params`), and returns the Bundle.
    pub async fn search(
        &self,
        res_type: Option<&str>,
        params: &[(String, String)],
        lenient: bool,
    ) -> Result<Value, GatewayError> {
        let page = self.page_request(params)?;
        let params = &self.local_references(params);
        let source = match (&page.key, res_type) {
            (Some(_), _) => SearchSource::Remembered,
            (None, Some(res_type)) => {
                SearchSource::Request(parse_search(self.definitions(), res_type, params, lenient)?)
            }
            (None, None) => {
                return Err(GatewayError::invalid(
                    "a search needs a resource type (GET [base]/[type]?…)",
                    "url",
                ))
            }
        };
        self.page_of(source, page).await
    }

    /// `GET [base]/Patient/{id}/{type}?…`: a search of `res_type` within the patient's
    /// compartment (the R4 CompartmentDefinition's parameters).
    pub async fn compartment_search(
        &self,
        patient_id: &str,
        res_type: &str,
        params: &[(String, String)],
        lenient: bool,
    ) -> Result<Value, GatewayError> {
        self.read("Patient", patient_id).await?;
        let page = self.page_request(params)?;
        let params = &self.local_references(params);
        let mut request = parse_search(self.definitions(), res_type, params, lenient)?;
        request
            .criteria
            .clauses
            .push(compartment_clause(patient_id, res_type)?);
        let ids = find_all(self.store.as_ref(), res_type, &request).await?;
        let search = PagedSearch {
            path: format!("Patient/{patient_id}/{res_type}"),
            refs: ids
                .into_iter()
                .map(|id| (res_type.to_owned(), id))
                .collect(),
            request,
        };
        self.page_of(SearchSource::Matches(search), page).await
    }

    /// `GET [base]/Patient/{id}/$everything` (`_since`, `_type`, `_count`): the patient and
    /// every resource in its compartment, paged like a search.
    pub async fn everything(
        &self,
        patient_id: &str,
        params: &[(String, String)],
    ) -> Result<Value, GatewayError> {
        self.read("Patient", patient_id).await?;
        let page = self.page_request(params)?;
        if page.key.is_some() {
            return self.page_of(SearchSource::Remembered, page).await;
        }
        let param = |name: &str| {
            params
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, v)| v.as_str())
        };
        let since: Vec<(String, String)> = param("_since")
            .map(|since| vec![("_lastUpdated".to_owned(), format!("ge{since}"))])
            .unwrap_or_default();
        let types: Vec<String> = match param("_type") {
            Some(list) => list
                .split(',')
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty())
                .collect(),
            // The patient itself first (with the patients that link to it, e.g. the copies
            // of referral packages received from other hospitals), then every other type of
            // the compartment.
            None => std::iter::once("Patient".to_owned())
                .chain(
                    patient_compartment()
                        .keys()
                        .filter(|t| *t != "Patient")
                        .cloned(),
                )
                .collect(),
        };
        let patients = self.patient_and_linked(patient_id).await?;
        let mut refs = Vec::new();
        for res_type in &types {
            if !tsunagi_profiles::is_resource_type(res_type) {
                return Err(GatewayError::invalid(
                    format!("_type: '{res_type}' is not a resource type"),
                    "_type",
                ));
            }
            let mut request = parse_search(self.definitions(), res_type, &since, false)?;
            if res_type == "Patient" {
                request.criteria.ids.push(patients.clone());
            } else {
                request
                    .criteria
                    .clauses
                    .push(compartments_clause(&patients, res_type)?);
            }
            let ids = find_all(self.store.as_ref(), res_type, &request).await?;
            refs.extend(ids.into_iter().map(|id| (res_type.clone(), id)));
            if refs.len() > MAX_MATCHES {
                return Err(GatewayError::TooCostly(format!(
                    "$everything holds more than {MAX_MATCHES} resources: use _type or _since"
                )));
            }
        }
        let mut request = parse_search(self.definitions(), "Patient", &[], false)?;
        request.used = params
            .iter()
            .filter(|(name, _)| matches!(name.as_str(), "_since" | "_type"))
            .cloned()
            .collect();
        let search = PagedSearch {
            path: format!("Patient/{patient_id}/$everything"),
            refs,
            request,
        };
        self.page_of(SearchSource::Matches(search), page).await
    }

    /// `patient_id` and the patients whose `link` names it (each at most once, the patient
    /// first).
    async fn patient_and_linked(&self, patient_id: &str) -> Result<Vec<String>, GatewayError> {
        let params = [("link".to_owned(), format!("Patient/{patient_id}"))];
        let request = parse_search(self.definitions(), "Patient", &params, false)?;
        let mut patients = vec![patient_id.to_owned()];
        for linked in find_all(self.store.as_ref(), "Patient", &request).await? {
            if !patients.contains(&linked) {
                patients.push(linked);
            }
        }
        Ok(patients)
    }

    /// Search values naming this server's own resources by absolute URL (`[base]/Patient/1`)
    /// become relative (`Patient/1`), as the references they should match are stored.
    fn local_references(&self, params: &[(String, String)]) -> Vec<(String, String)> {
        let base = format!("{}/", self.base_url);
        params
            .iter()
            .map(|(name, value)| {
                let value = value
                    .split(',')
                    .map(|part| part.strip_prefix(base.as_str()).unwrap_or(part))
                    .collect::<Vec<_>>()
                    .join(",");
                (name.clone(), value)
            })
            .collect()
    }

    fn page_request(&self, params: &[(String, String)]) -> Result<PageRequest, GatewayError> {
        let param = |name: &str| {
            params
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.as_str())
        };
        let number = |name: &str, default: usize| match param(name) {
            Some(text) => text.trim().parse::<usize>().map_err(|_| {
                GatewayError::invalid(format!("{name} '{text}' is not a number"), name)
            }),
            None => Ok(default),
        };
        let limits = &self.config.limits;
        Ok(PageRequest {
            key: param("_getpages").map(str::to_owned),
            offset: number("_offset", 0)?,
            count: number("_count", limits.default_page_size)?.min(limits.max_page_size),
        })
    }

    async fn page_of(
        &self,
        source: SearchSource,
        page: PageRequest,
    ) -> Result<Value, GatewayError> {
        run_search(
            self.store.as_ref(),
            &self.pages,
            self.definitions(),
            source,
            page,
            &self.base_url,
        )
        .await
    }

    /// The configuration it runs with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// What the adapters are told about the sending institution.
    pub fn source(&self) -> &SourceSettings {
        &self.source
    }

    /// Stores one converted message as one transaction (all or nothing) after the R4 check
    /// and validation (an `enforce`d type with an error refuses the whole message), and
    /// returns the transaction-response Bundle with the validation issues.
    pub async fn ingest(
        &self,
        conversion: &Conversion,
        source: SourceFormat,
    ) -> Result<Ingested, GatewayError> {
        let result = self.ingest_unmetered(conversion, source).await;
        let outcome = match &result {
            Ok(_) => "stored",
            Err(GatewayError::Store(_)) => "failed",
            Err(_) => "refused",
        };
        self.metrics.record_ingest(source.name(), outcome);
        result
    }

    async fn ingest_unmetered(
        &self,
        conversion: &Conversion,
        source: SourceFormat,
    ) -> Result<Ingested, GatewayError> {
        let bundle = checked_bundle(conversion)?;
        let (kind, entries) = parse_bundle(
            bundle,
            self.config.limits.max_bundle_entries,
            &self.base_url,
        )?;
        let entries = entries.into_iter().collect::<Result<Vec<_>, _>>()?;
        let (entries, issues) = self.check_transaction(entries).await?;
        let validation = issues
            .iter()
            .enumerate()
            .flat_map(|(index, issues)| {
                issues
                    .iter()
                    .map(move |issue| in_entry_resource(issue.clone(), index))
            })
            .collect();
        let now = Instant::now();
        let outcomes = self
            .store
            .transact(move |tx| {
                let mut entries = entries.clone();
                link_entries(tx, &mut entries, source)?;
                run_transaction(tx, entries, now)
            })
            .await?;
        self.remember(&outcomes);
        let results: Vec<Result<EntryOutcome, GatewayError>> =
            with_issues(outcomes, issues).into_iter().map(Ok).collect();
        Ok(Ingested {
            response: response_bundle(kind, &results, &self.base_url, PreferReturn::Minimal),
            validation,
        })
    }

    /// The absolute base URL (for `Location`, `fullUrl`, links).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Size and depth limits for request bodies.
    pub fn parse_limits(&self) -> ParseLimits {
        ParseLimits {
            max_bytes: self.config.limits.max_body_bytes,
            max_depth: self.config.limits.max_depth,
        }
    }

    /// The CapabilityStatement.
    pub fn capability(&self) -> &Value {
        &self.capability
    }

    /// The current version of `res_type/id`: 404 if it never existed, 410 if deleted.
    pub async fn read(&self, res_type: &str, id: &str) -> Result<Arc<StoredVersion>, GatewayError> {
        let stored = match self.cached(res_type, id).await? {
            Some(stored) => stored,
            None => {
                let generation = self.cache.generation();
                let stored = self
                    .store
                    .read(res_type, id)
                    .await?
                    .ok_or_else(|| GatewayError::NotFound(format!("{res_type}/{id}")))?;
                let stored = Arc::new(stored);
                self.cache.offer_read(Arc::clone(&stored), generation);
                stored
            }
        };
        if stored.is_deleted() {
            return Err(GatewayError::Gone(format!("{res_type}/{id}")));
        }
        Ok(stored)
    }

    /// The cached current version, if any and (on a store other gateways write to) still
    /// current there.
    async fn cached(
        &self,
        res_type: &str,
        id: &str,
    ) -> Result<Option<Arc<StoredVersion>>, GatewayError> {
        let Some(stored) = self.cache.get(res_type, id) else {
            return Ok(None);
        };
        if !self.store.shared() {
            return Ok(Some(stored));
        }
        let current = self.store.current_version(res_type, id).await?;
        Ok((current == Some(stored.version)).then_some(stored))
    }

    /// One version: 404 if it never existed, 410 if that version is a delete.
    pub async fn vread(
        &self,
        res_type: &str,
        id: &str,
        version: u64,
    ) -> Result<StoredVersion, GatewayError> {
        let what = format!("{res_type}/{id}/_history/{version}");
        let stored = self
            .store
            .vread(res_type, id, version)
            .await?
            .ok_or_else(|| GatewayError::NotFound(what.clone()))?;
        if stored.is_deleted() {
            return Err(GatewayError::Gone(what));
        }
        Ok(stored)
    }

    /// Runs one write (or read) interaction in its own transaction, after validating the
    /// resource it writes.
    pub async fn interact(&self, request: EntryRequest) -> Result<EntryOutcome, GatewayError> {
        let (request, issues) = self.check_request(request).await?;
        let mut outcome = self
            .run_one(move |tx, now| execute(tx, request.clone(), now))
            .await?;
        outcome.issues = issues;
        Ok(outcome)
    }

    /// Runs one interaction in its own store transaction and tells the cache what it wrote.
    async fn run_one(
        &self,
        mut work: impl FnMut(&mut dyn StoreTx, Instant) -> Result<EntryOutcome, GatewayError>
            + Send
            + 'static,
    ) -> Result<EntryOutcome, GatewayError> {
        let now = Instant::now();
        let outcome = self.store.transact(move |tx| work(tx, now)).await?;
        self.remember(std::slice::from_ref(&outcome));
        Ok(outcome)
    }

    /// Runs a batch or transaction Bundle and returns the response Bundle.
    pub async fn process_bundle(
        &self,
        bundle: Resource,
        prefer: PreferReturn,
    ) -> Result<Value, GatewayError> {
        let (kind, entries) = parse_bundle(
            bundle,
            self.config.limits.max_bundle_entries,
            &self.base_url,
        )?;
        let results: Vec<Result<EntryOutcome, GatewayError>> = match kind {
            BundleKind::Transaction => {
                let entries = entries.into_iter().collect::<Result<Vec<_>, _>>()?;
                let (entries, issues) = self.check_transaction(entries).await?;
                let now = Instant::now();
                let outcomes = self
                    .store
                    .transact(move |tx| run_transaction(tx, entries.clone(), now))
                    .await?;
                self.remember(&outcomes);
                with_issues(outcomes, issues).into_iter().map(Ok).collect()
            }
            BundleKind::Batch => {
                let mut results = Vec::with_capacity(entries.len());
                for (index, entry) in entries.into_iter().enumerate() {
                    let result = match entry {
                        Ok(BundleEntry { full_url, request }) => {
                            match self.check_request(request).await {
                                Ok((request, issues)) => {
                                    let entry = BundleEntry { full_url, request };
                                    self.run_one(move |tx, now| {
                                        run_batch_entry(tx, entry.clone(), now)
                                    })
                                    .await
                                    .map(|mut outcome| {
                                        outcome.issues = issues;
                                        outcome
                                    })
                                }
                                Err(error) => Err(error),
                            }
                        }
                        Err(error) => Err(error),
                    };
                    results.push(result.map_err(|error| error.in_entry(index)));
                }
                results
            }
        };
        Ok(response_bundle(kind, &results, &self.base_url, prefer))
    }

    /// A page of history as a Bundle with paging links.
    pub async fn history(
        &self,
        scope: HistoryScope,
        params: HistoryParams,
    ) -> Result<Value, GatewayError> {
        let page = self.store.history(&scope, &params.query).await?;
        if let HistoryScope::Instance(res_type, id) = &scope {
            if page.total == 0 && self.store.read(res_type, id).await?.is_none() {
                return Err(GatewayError::NotFound(format!("{res_type}/{id}")));
            }
        }
        let query = &params.query;
        let link = |offset: usize| {
            let mut url = format!(
                "{}/{}?_count={}&_snapshot={}&_offset={offset}",
                self.base_url, params.path, query.count, page.snapshot
            );
            if let Some(since) = query.since {
                url.push_str(&format!("&_since={}", since.to_fhir()));
            }
            url
        };
        let total = usize::try_from(page.total).unwrap_or(usize::MAX);
        let mut links = vec![("self", link(query.offset)), ("first", link(0))];
        if query.offset > 0 {
            links.push(("previous", link(query.offset.saturating_sub(query.count))));
        }
        if query.count > 0 && query.offset + query.count < total {
            links.push(("next", link(query.offset + query.count)));
        }
        if let Some(last_page) = total.saturating_sub(1).checked_div(query.count) {
            links.push(("last", link(last_page * query.count)));
        }
        Ok(history_bundle(&page, &self.base_url, &links))
    }

    /// Checks that the store answers.
    pub async fn ready(&self) -> Result<(), GatewayError> {
        Ok(self.store.ping().await?)
    }

    fn remember(&self, outcomes: &[EntryOutcome]) {
        self.cache.written(
            outcomes
                .iter()
                .filter(|outcome| outcome.wrote)
                .filter_map(|outcome| outcome.stored.clone().map(Arc::new)),
        );
    }
}
