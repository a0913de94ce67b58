//! Acceptance: FHIR search over every official R4 example agrees with an independent evaluator.
//!
//! The examples (`hl7.fhir.r4.examples@4.0.1`, CC0, fetched by `common::examples`) are PUT into
//! one server in transaction Bundles of up to 200 entries (two at a time), Bundles included as
//! resources; an entry a transaction refuses is retried with a plain PUT, and what the server
//! refuses even so (three examples the model or the R4 id rule rejects) is listed; then
//! a handful of made-up Japanese patients (JP Core name representation: kanji `IDE`, kana `SYL`)
//! with orders, studies, reports and results ([`japanese`]). Each query below is run over HTTP,
//! every page followed through its `next` link, and compared with what [`eval`] decides: plain
//! Rust over the same JSON values, with hand-written accessors per parameter and the R4 search
//! rules as the gateway documents them (date ranges at their precision, `ap` widened by 10 % of
//! the range and at least a day, number `eq` by the search value's implied precision, strings
//! folded for case, width and Latin accents). It shares no code with the gateway's or the
//! profiles crate's search. Match ids are compared as sets (in order for `_sort`), included
//! resources as `Type/id` sets; every match must come exactly once over all pages.
//!
//! The table of queries with expected and found counts is printed (and written to
//! `$TMPDIR/tsunagi-search-examples-report.txt`); the test fails on any disagreement.

mod common;

use common::examples::{example_files, r4_examples_dir};
use common::TestServer;
use eval::Ref;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tsunagi_gateway::config::{Synchronous, ValidationMode};

/// Entries per transaction Bundle while loading.
const ENTRIES_PER_TRANSACTION: usize = 200;
/// A transaction is closed early once its resources reach this many bytes.
const BYTES_PER_TRANSACTION: usize = 8 << 20;
/// `_count` for queries that do not set one: small enough that most queries page.
const PAGE_SIZE: &str = "20";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_over_the_r4_examples_agrees_with_an_independent_evaluator() {
    let Some(dir) = r4_examples_dir() else { return };
    let server = TestServer::start_with(|config| {
        config.cache.max_bytes = 0;
        config.sqlite.synchronous = Synchronous::Normal;
        config.limits.max_body_bytes = 256 << 20;
        // Loading 5,300 examples is setup here, not a validation test.
        config.validation.mode = ValidationMode::Off;
    });
    let started = std::time::Instant::now();
    let mut universe = Universe::new(&server.base);
    let (examples, mut refused) = read_examples(&dir);
    let read = started.elapsed();
    let loaded = load(&server, &examples).await;
    refused.extend(loaded.refused);
    for (res_type, id, (_, value)) in examples {
        let prefix = format!("{res_type}/{id}:");
        if !refused.iter().any(|line| line.starts_with(&prefix)) {
            universe.insert(&res_type, &id, lighten(value));
        }
    }
    let examples_loaded = started.elapsed();
    eprintln!(
        "read the examples in {read:.1?}, stored them in {:.1?}",
        examples_loaded - read
    );

    // Everything written after `marker` is the Japanese data set (for `_lastUpdated`).
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let marker = whole_second_now();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let japanese: Vec<Loadable> = japanese::resources()
        .into_iter()
        .map(|value| {
            let res_type = value["resourceType"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let id = value["id"].as_str().unwrap_or_default().to_owned();
            (res_type, id, (value.to_string().into_bytes(), value))
        })
        .collect();
    let japanese_load = load(&server, &japanese).await;
    assert!(
        japanese_load.refused.is_empty() && japanese_load.transaction_only.is_empty(),
        "made-up data refused: {:#?} {:#?}",
        japanese_load.refused,
        japanese_load.transaction_only
    );
    for (res_type, id, (_, value)) in japanese {
        universe.mark_recent(&res_type, &id);
        universe.insert(&res_type, &id, value);
    }
    eprintln!(
        "loaded {} resources of {} types in {:.1?} ({} refused), Japanese set after {marker}",
        universe.len(),
        universe.resources.len(),
        examples_loaded,
        refused.len()
    );

    let cases = cases(&universe, &marker);
    let mut report = String::new();
    let mut disagreements = Vec::new();
    let mut negatives = Vec::new();
    let _ = writeln!(
        report,
        "{:>5} {:>5} {:>9} {:>5}  query",
        "want", "got", "incl w/g", "pages"
    );
    for case in &cases {
        let observed = observe(&server, case).await;
        let verdict = judge(case, &observed);
        let included = match (&case.included, &observed) {
            (Some(want), Ok(got)) => format!("{}/{}", want.len(), got.included.len()),
            _ => String::new(),
        };
        let (got, pages) = match &observed {
            Ok(observed) => (observed.ids.len().to_string(), observed.pages.to_string()),
            Err(_) => ("ERR".into(), "-".into()),
        };
        let _ = writeln!(
            report,
            "{:>5} {got:>5} {included:>9} {pages:>5}  {}{}",
            case.expected.len(),
            case.label,
            if verdict.is_some() {
                "   <-- DISAGREES"
            } else {
                ""
            }
        );
        if let Some(why) = case.negative {
            negatives.push(format!("{} ({why})", case.label));
        } else if case.expected.is_empty() {
            disagreements.push(format!(
                "{}: the evaluator expects no match but the case is not marked negative",
                case.label
            ));
        }
        if let Some(verdict) = verdict {
            disagreements.push(format!("{}: {verdict}", case.label));
        }
    }
    let _ = writeln!(
        report,
        "\n{} queries, {} disagreements; negative tests (0 expected): {}",
        cases.len(),
        disagreements.len(),
        negatives.len()
    );
    for line in &negatives {
        let _ = writeln!(report, "  negative: {line}");
    }
    for line in &refused {
        let _ = writeln!(report, "  not loaded: {line}");
    }
    for line in &loaded.transaction_only {
        let _ = writeln!(
            report,
            "  refused inside a transaction, stored by a plain PUT: {line}"
        );
    }
    for line in &disagreements {
        let _ = writeln!(report, "  DISAGREEMENT {line}");
    }
    eprintln!("{report}");
    let _ = std::fs::write(
        std::env::temp_dir().join("tsunagi-search-examples-report.txt"),
        &report,
    );
    assert!(cases.len() >= 60, "only {} queries", cases.len());
    assert!(
        refused.len() < 10,
        "too many examples refused: {refused:#?}"
    );
    assert!(disagreements.is_empty(), "{report}");
}

// ---------------------------------------------------------------------------------------------
// Loading

/// One resource to store: type, id, the JSON bytes to send and the parsed value.
type Loadable = (String, String, (Vec<u8>, Value));

/// The example resources (type, id, file bytes, JSON), and the files that are not JSON
/// resources. When two files hold the same type and id, the later file wins.
fn read_examples(dir: &std::path::Path) -> (Vec<Loadable>, Vec<String>) {
    let mut by_key: BTreeMap<(String, String), (Vec<u8>, Value)> = BTreeMap::new();
    let mut order = Vec::new();
    let mut unreadable = Vec::new();
    for file in example_files(dir) {
        let name = file
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        let bytes = std::fs::read(&file).expect("read example");
        let value: Value = match serde_json::from_slice(&bytes) {
            Ok(value) => value,
            Err(error) => {
                unreadable.push(format!("{name}: not JSON: {error}"));
                continue;
            }
        };
        let key = key_of(&value);
        if by_key.insert(key.clone(), (bytes, value)).is_none() {
            order.push(key);
        }
    }
    let resources = order
        .into_iter()
        .filter_map(|key| {
            let entry = by_key.remove(&key)?;
            Some((key.0, key.1, entry))
        })
        .collect();
    (resources, unreadable)
}

/// What loading left out or had to work around.
#[derive(Default)]
struct LoadReport {
    /// `Type/id: why` for each resource the server refused.
    refused: Vec<String>,
    /// `Type/id: why` for each resource refused inside a transaction but stored by a plain PUT.
    transaction_only: Vec<String>,
}

/// PUTs every resource through transaction Bundles, in two lanes at once. When a transaction
/// is refused, the entry its OperationOutcome names is PUT on its own and the rest retried
/// (without a named entry, the transaction is split in halves); what the server still refuses
/// is reported, not stored.
async fn load(server: &TestServer, resources: &[Loadable]) -> LoadReport {
    const LANES: usize = 2;
    let mut chunks: Vec<Vec<usize>> = Vec::new();
    let mut chunk_bytes = 0;
    for (index, (_, _, (bytes, _))) in resources.iter().enumerate() {
        let full = chunks.last().is_none_or(|chunk| {
            chunk.len() == ENTRIES_PER_TRANSACTION
                || chunk_bytes + bytes.len() > BYTES_PER_TRANSACTION
        });
        if full {
            chunks.push(Vec::new());
            chunk_bytes = 0;
        }
        if let Some(chunk) = chunks.last_mut() {
            chunk.push(index);
        }
        chunk_bytes += bytes.len();
    }
    let mut lanes: Vec<Vec<Vec<usize>>> = (0..LANES).map(|_| Vec::new()).collect();
    for (number, chunk) in chunks.into_iter().enumerate() {
        lanes[number % LANES].push(chunk);
    }
    let reports = futures_util::future::join_all(lanes.into_iter().map(|mut pending| async move {
        let mut report = LoadReport::default();
        // Last in, first out: halves of a refused chunk are retried before the next chunk.
        pending.reverse();
        while let Some(part) = pending.pop() {
            let refusal = match transaction(server, resources, &part).await {
                Ok(()) => continue,
                Err(refusal) => refusal,
            };
            let culprit = match refused_entry(&refusal).filter(|&at| at < part.len()) {
                _ if part.len() == 1 => part[0],
                Some(at) => {
                    let mut rest = part.clone();
                    let culprit = rest.remove(at);
                    pending.push(rest);
                    culprit
                }
                None => {
                    let (first, second) = part.split_at(part.len() / 2);
                    pending.push(second.to_vec());
                    pending.push(first.to_vec());
                    continue;
                }
            };
            let (res_type, id, (bytes, _)) = &resources[culprit];
            let response = server
                .client
                .put(server.url(&format!("{res_type}/{id}")))
                .header("Content-Type", "application/fhir+json")
                .body(bytes.clone())
                .send()
                .await
                .expect("PUT sent");
            let status = response.status().as_u16();
            if status == 200 || status == 201 {
                report
                    .transaction_only
                    .push(format!("{res_type}/{id}: {refusal}"));
            } else {
                let body: Value = response.json().await.unwrap_or(Value::Null);
                report.refused.push(format!(
                    "{res_type}/{id}: PUT answered {status}: {}",
                    diagnostics(&body)
                ));
            }
        }
        report
    }))
    .await;
    let mut all = LoadReport::default();
    for report in reports {
        all.refused.extend(report.refused);
        all.transaction_only.extend(report.transaction_only);
    }
    all
}

/// The index `N` of the `Bundle.entry[N]` a transaction refusal names.
fn refused_entry(refusal: &str) -> Option<usize> {
    let (_, rest) = refusal.split_once("Bundle.entry[")?;
    rest.split(']').next()?.parse().ok()
}

/// POSTs one transaction Bundle that PUTs `part` of `resources`; the refusal, if any.
async fn transaction(
    server: &TestServer,
    resources: &[Loadable],
    part: &[usize],
) -> Result<(), String> {
    let mut body = Vec::with_capacity(BYTES_PER_TRANSACTION + 1024);
    body.extend_from_slice(br#"{"resourceType":"Bundle","type":"transaction","entry":["#);
    for (position, &index) in part.iter().enumerate() {
        let (res_type, id, (bytes, _)) = &resources[index];
        if position > 0 {
            body.push(b',');
        }
        body.extend_from_slice(b"{\"resource\":");
        body.extend_from_slice(bytes);
        let request = json!({ "method": "PUT", "url": format!("{res_type}/{id}") });
        body.extend_from_slice(format!(",\"request\":{request}}}").as_bytes());
    }
    body.extend_from_slice(b"]}");
    let (status, response) = server.post_bytes("", "application/fhir+json", body).await;
    if status == 200 {
        Ok(())
    } else {
        Err(format!(
            "a transaction answered {status}: {}",
            diagnostics(&response)
        ))
    }
}

/// The diagnostics of an OperationOutcome, for messages.
fn diagnostics(outcome: &Value) -> String {
    let text: Vec<String> = outcome["issue"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|issue| {
            format!(
                "{} {}",
                issue["diagnostics"].as_str().unwrap_or_default(),
                issue["expression"]
            )
        })
        .collect();
    let text = text.join("; ");
    text.chars().take(400).collect()
}

/// The parts of a resource no query below reads, dropped to keep the evaluator's copy small:
/// the entries of large Bundles, StructureDefinition snapshots and differentials, narrative
/// (kept for the types `_text` and `_content` are queried on).
fn lighten(mut value: Value) -> Value {
    if let Some(object) = value.as_object_mut() {
        if matches!(
            object.get("resourceType").and_then(Value::as_str),
            Some("Patient" | "Observation")
        ) {
            return value;
        }
        if object.get("resourceType").and_then(Value::as_str) == Some("Bundle") {
            object.remove("entry");
        }
        object.remove("snapshot");
        object.remove("differential");
        if object
            .get("text")
            .is_some_and(|text| text.get("div").is_some())
        {
            object.remove("text");
        }
    }
    value
}

/// Now, to the whole second, as a FHIR instant in UTC.
fn whole_second_now() -> String {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64;
    let days = seconds.div_euclid(86_400);
    let (year, month, day) = eval::civil_from_days(days);
    let of_day = seconds.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60
    )
}

// ---------------------------------------------------------------------------------------------
// What was stored

/// Every stored resource (as the evaluator sees it), by type and id.
struct Universe {
    base: String,
    resources: BTreeMap<String, BTreeMap<String, Value>>,
    /// `Type/id` of the resources written after the `_lastUpdated` marker.
    recent: BTreeSet<String>,
}

impl Universe {
    fn new(base: &str) -> Self {
        Universe {
            base: base.to_owned(),
            resources: BTreeMap::new(),
            recent: BTreeSet::new(),
        }
    }

    fn insert(&mut self, res_type: &str, id: &str, value: Value) {
        self.resources
            .entry(res_type.to_owned())
            .or_default()
            .insert(id.to_owned(), value);
    }

    fn mark_recent(&mut self, res_type: &str, id: &str) {
        self.recent.insert(format!("{res_type}/{id}"));
    }

    fn len(&self) -> usize {
        self.resources.values().map(BTreeMap::len).sum()
    }

    /// Every resource of `res_type`.
    fn all(&self, res_type: &str) -> impl Iterator<Item = &Value> {
        self.resources
            .get(res_type)
            .into_iter()
            .flat_map(BTreeMap::values)
    }

    fn get(&self, res_type: &str, id: &str) -> Option<&Value> {
        self.resources.get(res_type)?.get(id)
    }

    /// The stored resource a reference points at on this server, if there is one.
    fn resolve(&self, reference: &Ref) -> Option<&Value> {
        let (res_type, id) = reference.local.as_ref()?;
        self.get(res_type, id)
    }

    /// The references at `path` of `resource`.
    fn refs(&self, resource: &Value, path: &str) -> Vec<Ref> {
        eval::refs(&eval::at(resource, path), &self.base)
    }

    /// `Type/id` of every `target_type` resource that a reference at `path` of one of
    /// `matched` points at and that exists (`_include`).
    fn forward(
        &self,
        matched: &[&Value],
        path: &str,
        target_type: Option<&str>,
    ) -> BTreeSet<String> {
        let mut found = BTreeSet::new();
        for resource in matched {
            for reference in self.refs(resource, path) {
                if let Some((res_type, id)) = &reference.local {
                    let wanted = target_type.is_none_or(|target| target == res_type);
                    if wanted && self.get(res_type, id).is_some() {
                        found.insert(format!("{res_type}/{id}"));
                    }
                }
            }
        }
        found
    }

    /// `Source/id` of every `source_type` resource whose reference at `path` points at one of
    /// `matched` (`_revinclude`).
    fn reverse(&self, matched: &[&Value], source_type: &str, path: &str) -> BTreeSet<String> {
        let targets: BTreeSet<(String, String)> =
            matched.iter().map(|value| key_of(value)).collect();
        self.all(source_type)
            .filter(|source| {
                self.refs(source, path).iter().any(|reference| {
                    reference
                        .local
                        .as_ref()
                        .is_some_and(|local| targets.contains(local))
                })
            })
            .map(|source| {
                let (res_type, id) = key_of(source);
                format!("{res_type}/{id}")
            })
            .collect()
    }
}

fn key_of(value: &Value) -> (String, String) {
    (
        value["resourceType"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        value["id"].as_str().unwrap_or_default().to_owned(),
    )
}

// ---------------------------------------------------------------------------------------------
// Cases

/// What a resource sorts by for one `_sort` key (given the direction), `None` when it has no
/// value.
type SortKeyFn<'a> = &'a dyn Fn(&Value, bool) -> Option<eval::SortValue>;

/// One query and what the evaluator expects of it.
struct Case {
    /// `Type?name=value&…` as written (not encoded), for the report.
    label: String,
    res_type: String,
    params: Vec<(String, String)>,
    /// Ids of the expected matches, in the expected order when `ordered`.
    expected: Vec<String>,
    ordered: bool,
    /// `Type/id` of the expected `_include`/`_revinclude` resources, when the query has any.
    included: Option<BTreeSet<String>>,
    /// Why no match is expected, for the few negative tests.
    negative: Option<&'static str>,
    /// `_total=none`: the Bundle must not carry a total.
    total_none: bool,
}

impl Case {
    /// The matches as JSON values, for include expectations.
    fn matched<'u>(&self, universe: &'u Universe) -> Vec<&'u Value> {
        self.expected
            .iter()
            .filter_map(|id| universe.get(&self.res_type, id))
            .collect()
    }

    fn including(
        mut self,
        universe: &Universe,
        expected: impl Fn(&[&Value]) -> BTreeSet<String>,
    ) -> Self {
        let matched = self.matched(universe);
        self.included = Some(expected(&matched));
        self
    }

    fn negative(mut self, why: &'static str) -> Self {
        self.negative = Some(why);
        self
    }

    fn total_none(mut self) -> Self {
        self.total_none = true;
        self
    }

    /// Orders the expected matches by `keys` (each gives the value a resource sorts by in its
    /// direction, `None` when it has none: those sort last), then by id.
    fn sorted(mut self, universe: &Universe, keys: &[(bool, SortKeyFn)]) -> Self {
        let res_type = self.res_type.clone();
        self.expected.sort_by(|left, right| {
            let (Some(a), Some(b)) = (
                universe.get(&res_type, left),
                universe.get(&res_type, right),
            ) else {
                return left.cmp(right);
            };
            for (descending, key) in keys {
                let ordering = match (key(a, *descending), key(b, *descending)) {
                    (Some(x), Some(y)) if *descending => y.cmp(&x),
                    (Some(x), Some(y)) => x.cmp(&y),
                    (Some(_), None) => std::cmp::Ordering::Less,
                    (None, Some(_)) => std::cmp::Ordering::Greater,
                    (None, None) => std::cmp::Ordering::Equal,
                };
                if ordering != std::cmp::Ordering::Equal {
                    return ordering;
                }
            }
            left.cmp(right)
        });
        self.ordered = true;
        self
    }
}

/// A case: the resources of `res_type` for which `matches` holds are expected.
fn case(
    universe: &Universe,
    res_type: &str,
    params: &[(&str, &str)],
    matches: impl Fn(&Value) -> bool,
) -> Case {
    let expected = universe
        .all(res_type)
        .filter(|resource| matches(resource))
        .map(|resource| resource["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    let label = format!(
        "{res_type}?{}",
        params
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("&")
    );
    Case {
        label,
        res_type: res_type.to_owned(),
        params: params
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect(),
        expected,
        ordered: false,
        included: None,
        negative: None,
        total_none: false,
    }
}

/// Every query, with the evaluator's expectation.
#[allow(clippy::too_many_lines)]
fn cases(u: &Universe, marker: &str) -> Vec<Case> {
    use eval::*;
    let base = u.base.as_str();
    let mut cases = Vec::new();
    let names = |r: &Value| human_names(r, "name");
    let patient_refs = |r: &Value, path: &str| -> Vec<Ref> {
        u.refs(r, path)
            .into_iter()
            .filter(|reference| reference.points_to("Patient"))
            .collect()
    };
    let taro_id = format!("{}|00000001", japanese::PATIENT_ID_SYSTEM);

    // --- the named queries -------------------------------------------------------------------
    cases.push(case(
        u,
        "ServiceRequest",
        &[("patient", "Patient/jp-yamada-taro"), ("status", "active")],
        |r| {
            ref_matches(
                &patient_refs(r, "subject"),
                "Patient/jp-yamada-taro",
                base,
                None,
            ) && token_matches(&code_tokens(r, "status"), "active")
        },
    ));
    cases.push(case(
        u,
        "ImagingStudy",
        &[("basedon", "ServiceRequest/jp-sr-yamada-taro-1")],
        |r| {
            ref_matches(
                &u.refs(r, "basedOn"),
                "ServiceRequest/jp-sr-yamada-taro-1",
                base,
                None,
            )
        },
    ));
    let patient_identifier = |r: &Value, wanted: &str| {
        patient_refs(r, "subject").iter().any(|reference| {
            u.resolve(reference).is_some_and(|patient| {
                token_matches(&identifier_tokens(patient, "identifier"), wanted)
            })
        })
    };
    cases.push(
        case(
            u,
            "DiagnosticReport",
            &[
                ("patient.identifier", taro_id.as_str()),
                ("_include", "DiagnosticReport:result"),
            ],
            |r| patient_identifier(r, &taro_id),
        )
        .including(u, |matched| {
            u.forward(matched, "result", Some("Observation"))
        }),
    );
    cases.push(
        case(
            u,
            "DiagnosticReport",
            &[
                ("patient.identifier", "urn:oid:0.1.2.3.4.5.6.7|123456"),
                ("_include", "DiagnosticReport:result"),
            ],
            |r| patient_identifier(r, "urn:oid:0.1.2.3.4.5.6.7|123456"),
        )
        .including(u, |matched| {
            u.forward(matched, "result", Some("Observation"))
        }),
    );
    cases.push(
        case(
            u,
            "ServiceRequest",
            &[("_revinclude", "ImagingStudy:basedon"), ("_count", "10")],
            |_| true,
        )
        .including(u, |matched| u.reverse(matched, "ImagingStudy", "basedOn")),
    );
    cases.push(case(u, "Patient", &[("name", "やまだ")], |r| {
        string_matches(&names(r), "やまだ", StringMode::Prefix)
    }));
    cases.push(case(u, "Patient", &[("name", "山田")], |r| {
        string_matches(&names(r), "山田", StringMode::Prefix)
    }));

    // --- string ------------------------------------------------------------------------------
    for (query, mode) in [
        ("やま", StringMode::Prefix),
        ("山田 太郎", StringMode::Prefix),
        ("ﾔﾏﾀﾞ", StringMode::Prefix),
        ("ｻﾄｳ", StringMode::Prefix),
        ("ＹＡＭＡＤＡ", StringMode::Prefix),
        ("jose", StringMode::Prefix),
        ("peter", StringMode::Prefix),
        ("山田", StringMode::Contains),
        ("alm", StringMode::Contains),
        ("山田", StringMode::Exact),
        ("Peter", StringMode::Exact),
        ("peter", StringMode::Exact),
    ] {
        let name = match mode {
            StringMode::Prefix => "name",
            StringMode::Contains => "name:contains",
            StringMode::Exact => "name:exact",
        };
        let mut c = case(u, "Patient", &[(name, query)], |r| {
            string_matches(&names(r), query, mode)
        });
        if query == "peter" && mode == StringMode::Exact {
            c = c.negative("exact is case-sensitive: the examples write 'Peter'");
        }
        cases.push(c);
    }
    cases.push(case(u, "Patient", &[("family", "MULLER")], |r| {
        string_matches(&strings(r, "name.family"), "MULLER", StringMode::Prefix)
    }));
    cases.push(case(u, "Patient", &[("given", "PET")], |r| {
        string_matches(&strings(r, "name.given"), "PET", StringMode::Prefix)
    }));
    cases.push(case(u, "Patient", &[("address-city", "pleas")], |r| {
        string_matches(&strings(r, "address.city"), "pleas", StringMode::Prefix)
    }));
    cases.push(case(u, "Patient", &[("address", "東京")], |r| {
        string_matches(&address_parts(r, "address"), "東京", StringMode::Prefix)
    }));
    cases.push(case(u, "Organization", &[("name", "burgers")], |r| {
        let mut values = strings(r, "name");
        values.extend(strings(r, "alias"));
        string_matches(&values, "burgers", StringMode::Prefix)
    }));
    cases.push(case(u, "Practitioner", &[("name", "van")], |r| {
        string_matches(&human_names(r, "name"), "van", StringMode::Prefix)
    }));
    cases.push(case(u, "ValueSet", &[("name", "administrative")], |r| {
        string_matches(&strings(r, "name"), "administrative", StringMode::Prefix)
    }));
    cases.push(case(
        u,
        "CodeSystem",
        &[("publisher", "HL7"), ("_count", "200")],
        |r| string_matches(&strings(r, "publisher"), "HL7", StringMode::Prefix),
    ));

    // --- token -------------------------------------------------------------------------------
    cases.push(case(u, "Patient", &[("gender", "female")], |r| {
        token_matches(&code_tokens(r, "gender"), "female")
    }));
    cases.push(case(u, "Patient", &[("gender", "male,other")], |r| {
        let tokens = code_tokens(r, "gender");
        token_matches(&tokens, "male") || token_matches(&tokens, "other")
    }));
    cases.push(case(u, "Patient", &[("active", "true")], |r| {
        token_matches(&code_tokens(r, "active"), "true")
    }));
    cases.push(case(
        u,
        "Patient",
        &[("identifier", "urn:oid:1.2.36.146.595.217.0.1|12345")],
        |r| {
            token_matches(
                &identifier_tokens(r, "identifier"),
                "urn:oid:1.2.36.146.595.217.0.1|12345",
            )
        },
    ));
    cases.push(case(u, "Patient", &[("identifier", "12345")], |r| {
        token_matches(&identifier_tokens(r, "identifier"), "12345")
    }));
    let jp_system = format!("{}|", japanese::PATIENT_ID_SYSTEM);
    cases.push(case(
        u,
        "Patient",
        &[("identifier", jp_system.as_str())],
        |r| token_matches(&identifier_tokens(r, "identifier"), &jp_system),
    ));
    cases.push(case(u, "Patient", &[("identifier", "|AB60001")], |r| {
        token_matches(&identifier_tokens(r, "identifier"), "|AB60001")
    }));
    cases.push(case(
        u,
        "Observation",
        &[("code", "http://loinc.org|29463-7")],
        |r| token_matches(&concept_tokens(r, "code"), "http://loinc.org|29463-7"),
    ));
    cases.push(case(
        u,
        "Observation",
        &[("code", "http://loinc.org|"), ("_count", "50")],
        |r| token_matches(&concept_tokens(r, "code"), "http://loinc.org|"),
    ));
    cases.push(case(u, "ServiceRequest", &[("code", "|LOCAL-CT01")], |r| {
        token_matches(&concept_tokens(r, "code"), "|LOCAL-CT01")
    }));
    cases.push(case(u, "ServiceRequest", &[("code", "LOCAL-CT01")], |r| {
        token_matches(&concept_tokens(r, "code"), "LOCAL-CT01")
    }));
    cases.push(case(u, "Observation", &[("status:not", "final")], |r| {
        !token_matches(&code_tokens(r, "status"), "final")
    }));
    cases.push(case(
        u,
        "Observation",
        &[(
            "category",
            "http://terminology.hl7.org/CodeSystem/observation-category|vital-signs",
        )],
        |r| {
            token_matches(
                &concept_tokens(r, "category"),
                "http://terminology.hl7.org/CodeSystem/observation-category|vital-signs",
            )
        },
    ));
    cases.push(case(u, "Observation", &[("code:text", "body")], |r| {
        token_text_matches(&concept_tokens(r, "code"), "body")
    }));
    cases.push(case(u, "Observation", &[("code:text", "体")], |r| {
        token_text_matches(&concept_tokens(r, "code"), "体")
    }));
    cases.push(case(
        u,
        "ImagingStudy",
        &[(
            "modality",
            "http://dicom.nema.org/resources/ontology/DCM|CT",
        )],
        |r| {
            token_matches(
                &coding_tokens(r, "series.modality"),
                "http://dicom.nema.org/resources/ontology/DCM|CT",
            )
        },
    ));
    cases.push(case(
        u,
        "Condition",
        &[("clinical-status", "active")],
        |r| token_matches(&concept_tokens(r, "clinicalStatus"), "active"),
    ));
    cases.push(case(
        u,
        "ValueSet",
        &[("status", "draft"), ("_count", "200")],
        |r| token_matches(&code_tokens(r, "status"), "draft"),
    ));
    cases.push(case(u, "Bundle", &[("type", "document,message")], |r| {
        let tokens = code_tokens(r, "type");
        token_matches(&tokens, "document") || token_matches(&tokens, "message")
    }));
    cases.push(
        case(
            u,
            "Bundle",
            &[("type", "collection"), ("_total", "none")],
            |r| token_matches(&code_tokens(r, "type"), "collection"),
        )
        .total_none(),
    );
    cases.push(case(u, "Patient", &[("birthdate:missing", "true")], |r| {
        dates(r, "birthDate").is_empty()
    }));
    cases.push(case(u, "Patient", &[("birthdate:missing", "false")], |r| {
        !dates(r, "birthDate").is_empty()
    }));
    cases.push(case(
        u,
        "Observation",
        &[("value-quantity:missing", "true"), ("_count", "50")],
        |r| quantities(r, "valueQuantity").is_empty(),
    ));

    // --- reference ---------------------------------------------------------------------------
    cases.push(case(
        u,
        "Observation",
        &[("subject", "Patient/example"), ("_count", "50")],
        |r| ref_matches(&u.refs(r, "subject"), "Patient/example", base, None),
    ));
    cases.push(case(
        u,
        "Observation",
        &[("patient", "example"), ("_count", "50")],
        |r| ref_matches(&patient_refs(r, "subject"), "example", base, None),
    ));
    cases.push(case(
        u,
        "Observation",
        &[("subject:Patient", "f001")],
        |r| ref_matches(&u.refs(r, "subject"), "f001", base, Some("Patient")),
    ));
    let own_absolute = format!("{base}/Patient/pat2");
    cases.push(case(
        u,
        "Observation",
        &[("subject", own_absolute.as_str())],
        |r| ref_matches(&u.refs(r, "subject"), &own_absolute, base, None),
    ));
    cases.push(case(
        u,
        "ServiceRequest",
        &[(
            "subject",
            "https://fhir.orionhealth.com/blaze/fhir/Patient/77662",
        )],
        |r| {
            ref_matches(
                &u.refs(r, "subject"),
                "https://fhir.orionhealth.com/blaze/fhir/Patient/77662",
                base,
                None,
            )
        },
    ));
    cases.push(
        case(u, "ServiceRequest", &[("subject", "Patient/77662")], |r| {
            ref_matches(&u.refs(r, "subject"), "Patient/77662", base, None)
        })
        .negative("only another server's Patient/77662 is referenced (by absolute URL)"),
    );
    cases.push(case(
        u,
        "ServiceRequest",
        &[(
            "subject",
            "https://other.example.jp/fhir/Patient/jp-yamada-taro",
        )],
        |r| {
            ref_matches(
                &u.refs(r, "subject"),
                "https://other.example.jp/fhir/Patient/jp-yamada-taro",
                base,
                None,
            )
        },
    ));
    let logical = format!("{}|00000099", japanese::PATIENT_ID_SYSTEM);
    cases.push(case(
        u,
        "DiagnosticReport",
        &[("subject:identifier", logical.as_str())],
        |r| identifier_ref_matches(&u.refs(r, "subject"), &logical),
    ));
    cases.push(case(
        u,
        "DiagnosticReport",
        &[("result", "Observation/jp-obs-sato-haruto-2")],
        |r| {
            ref_matches(
                &u.refs(r, "result"),
                "Observation/jp-obs-sato-haruto-2",
                base,
                None,
            )
        },
    ));
    cases.push(case(
        u,
        "Observation",
        &[("subject:Patient.name", "peter")],
        |r| {
            u.refs(r, "subject").iter().any(|reference| {
                reference
                    .local
                    .as_ref()
                    .is_some_and(|(t, _)| t == "Patient")
                    && u.resolve(reference).is_some_and(|patient| {
                        string_matches(&human_names(patient, "name"), "peter", StringMode::Prefix)
                    })
            })
        },
    ));
    cases.push(case(
        u,
        "ImagingStudy",
        &[("basedon:ServiceRequest.status", "active")],
        |r| {
            u.refs(r, "basedOn").iter().any(|reference| {
                reference
                    .local
                    .as_ref()
                    .is_some_and(|(t, _)| t == "ServiceRequest")
                    && u.resolve(reference)
                        .is_some_and(|order| token_matches(&code_tokens(order, "status"), "active"))
            })
        },
    ));
    cases.push(case(
        u,
        "DiagnosticReport",
        &[("subject:Patient.name", "やまだ"), ("status", "final")],
        |r| {
            token_matches(&code_tokens(r, "status"), "final")
                && u.refs(r, "subject").iter().any(|reference| {
                    reference
                        .local
                        .as_ref()
                        .is_some_and(|(t, _)| t == "Patient")
                        && u.resolve(reference).is_some_and(|patient| {
                            string_matches(
                                &human_names(patient, "name"),
                                "やまだ",
                                StringMode::Prefix,
                            )
                        })
                })
        },
    ));
    let has = |r: &Value,
               source: &str,
               path: &str,
               only_patients: bool,
               inner: &dyn Fn(&Value) -> bool| {
        let (res_type, id) = key_of(r);
        u.all(source).any(|candidate| {
            let refs = u.refs(candidate, path);
            refs.iter().any(|reference| {
                (!only_patients || reference.points_to("Patient"))
                    && reference.local.as_ref() == Some(&(res_type.clone(), id.clone()))
            }) && inner(candidate)
        })
    };
    cases.push(case(
        u,
        "Patient",
        &[("_has:Observation:patient:code", "http://loinc.org|29463-7")],
        |r| {
            has(r, "Observation", "subject", true, &|o| {
                token_matches(&concept_tokens(o, "code"), "http://loinc.org|29463-7")
            })
        },
    ));
    cases.push(case(
        u,
        "ServiceRequest",
        &[("_has:ImagingStudy:basedon:modality", "MR")],
        |r| {
            has(r, "ImagingStudy", "basedOn", false, &|s| {
                token_matches(&coding_tokens(s, "series.modality"), "MR")
            })
        },
    ));

    // --- date --------------------------------------------------------------------------------
    for query in [
        "1974-12-25",
        "ne1974-12-25",
        "gt1980",
        "lt1960",
        "ge1970-04-01",
        "le1972-08",
        "sa1970-04-01",
        "eb1972",
        "ap1970-04-01",
        "ap2010",
        "eq1970",
    ] {
        cases.push(case(u, "Patient", &[("birthdate", query)], |r| {
            date_matches(&dates(r, "birthDate"), query)
        }));
    }
    cases.push(case(
        u,
        "Patient",
        &[("birthdate", "ge1970"), ("birthdate", "lt1980")],
        |r| {
            let values = dates(r, "birthDate");
            date_matches(&values, "ge1970") && date_matches(&values, "lt1980")
        },
    ));
    let observation_date = |r: &Value| effective(r, "effective");
    for query in [
        "eq2013-04",
        "ge2020",
        "lt2000",
        "2024-04-10",
        "ap2016-05-18T22:33:22Z",
    ] {
        cases.push(case(
            u,
            "Observation",
            &[("date", query), ("_count", "50")],
            |r| date_matches(&observation_date(r), query),
        ));
    }
    for query in [
        "ge2016",
        "lt2014",
        "sa2015-01-17T06:29:59Z",
        "eb2015-01-17T06:00:00Z",
    ] {
        cases.push(case(u, "Encounter", &[("date", query)], |r| {
            date_matches(&periods(r, "period"), query)
        }));
    }
    cases.push(case(u, "ImagingStudy", &[("started", "2024-04")], |r| {
        date_matches(&dates(r, "started"), "2024-04")
    }));
    cases.push(case(
        u,
        "MedicationRequest",
        &[("authoredon", "le2015-01-31")],
        |r| date_matches(&dates(r, "authoredOn"), "le2015-01-31"),
    ));
    cases.push(case(
        u,
        "ValueSet",
        &[("date", "ge2019-10"), ("_count", "200")],
        |r| date_matches(&dates(r, "date"), "ge2019-10"),
    ));
    let gt_marker = format!("gt{marker}");
    let lt_marker = format!("lt{marker}");
    cases.push(case(
        u,
        "Patient",
        &[("_lastUpdated", gt_marker.as_str())],
        |r| {
            let (res_type, id) = key_of(r);
            u.recent.contains(&format!("{res_type}/{id}"))
        },
    ));
    cases.push(case(
        u,
        "ServiceRequest",
        &[("_lastUpdated", lt_marker.as_str())],
        |r| {
            let (res_type, id) = key_of(r);
            !u.recent.contains(&format!("{res_type}/{id}"))
        },
    ));

    // --- number and quantity -----------------------------------------------------------------
    for query in ["gt0.001", "0.02", "ap0.0004", "lt0.0002", "ne0.02"] {
        cases.push(case(u, "RiskAssessment", &[("probability", query)], |r| {
            number_matches(&numbers(r, "prediction.probabilityDecimal"), query)
        }));
    }
    for query in [
        "gt100",
        "6.3|http://unitsofmeasure.org|mmol/L",
        "6.3||mmol/l",
        "lt37||Cel",
        "ge68.5|http://unitsofmeasure.org|kg",
        "le52",
        "ap185",
        "ne10",
        "16.2",
        "70",
    ] {
        cases.push(case(
            u,
            "Observation",
            &[("value-quantity", query), ("_count", "50")],
            |r| quantity_matches(&quantities(r, "valueQuantity"), query),
        ));
    }
    cases.push(case(u, "Encounter", &[("length", "gt100")], |r| {
        quantity_matches(&quantities(r, "length"), "gt100")
    }));
    cases.push(case(u, "Encounter", &[("length", "56||min")], |r| {
        quantity_matches(&quantities(r, "length"), "56||min")
    }));

    // --- uri ---------------------------------------------------------------------------------
    cases.push(case(
        u,
        "ValueSet",
        &[("url", "http://hl7.org/fhir/ValueSet/administrative-gender")],
        |r| {
            uri_matches(
                &strings(r, "url"),
                "http://hl7.org/fhir/ValueSet/administrative-gender",
                UriMode::Exact,
            )
        },
    ));
    cases.push(case(
        u,
        "CodeSystem",
        &[
            ("url:below", "http://terminology.hl7.org/CodeSystem/v2-0"),
            ("_count", "200"),
        ],
        |r| {
            uri_matches(
                &strings(r, "url"),
                "http://terminology.hl7.org/CodeSystem/v2-0",
                UriMode::Below,
            )
        },
    ));
    cases.push(case(
        u,
        "ValueSet",
        &[(
            "url:above",
            "http://hl7.org/fhir/ValueSet/administrative-gender/extra/path",
        )],
        |r| {
            uri_matches(
                &strings(r, "url"),
                "http://hl7.org/fhir/ValueSet/administrative-gender/extra/path",
                UriMode::Above,
            )
        },
    ));
    cases.push(case(
        u,
        "Observation",
        &[(
            "_profile",
            "http://hl7.org/fhir/StructureDefinition/vitalsigns",
        )],
        |r| {
            uri_matches(
                &strings(r, "meta.profile"),
                "http://hl7.org/fhir/StructureDefinition/vitalsigns",
                UriMode::Exact,
            )
        },
    ));

    // --- _id ---------------------------------------------------------------------------------
    cases.push(case(u, "Patient", &[("_id", "example")], |r| {
        r["id"] == "example"
    }));
    cases.push(case(
        u,
        "Patient",
        &[("_id", "example,jp-yamada-taro,no-such-patient")],
        |r| r["id"] == "example" || r["id"] == "jp-yamada-taro",
    ));
    cases.push(
        case(u, "Observation", &[("_id", "no-such-observation")], |_| {
            false
        })
        .negative("no such id"),
    );
    cases.push(
        case(
            u,
            "Patient",
            &[
                ("name", "やまだ"),
                ("gender", "female"),
                ("birthdate", "lt1900"),
            ],
            |r| {
                string_matches(&names(r), "やまだ", StringMode::Prefix)
                    && token_matches(&code_tokens(r, "gender"), "female")
                    && date_matches(&dates(r, "birthDate"), "lt1900")
            },
        )
        .negative("every clause must hold; no Yamada was born before 1900"),
    );

    // --- _sort -------------------------------------------------------------------------------
    let birthdate_key: SortKeyFn =
        &|r, descending| date_sort_value(&dates(r, "birthDate"), descending);
    let id_key: SortKeyFn = &|r, _| {
        Some(SortValue::Text(
            r["id"].as_str().unwrap_or_default().to_owned(),
        ))
    };
    let family_key: SortKeyFn =
        &|r, descending| text_sort_value(&strings(r, "name.family"), descending);
    let date_key: SortKeyFn =
        &|r, descending| date_sort_value(&effective(r, "effective"), descending);
    cases.push(
        case(u, "Patient", &[("_sort", "birthdate,_id")], |_| true)
            .sorted(u, &[(false, birthdate_key), (false, id_key)]),
    );
    cases.push(
        case(
            u,
            "Patient",
            &[("_sort", "-birthdate,_id"), ("_count", "7")],
            |_| true,
        )
        .sorted(u, &[(true, birthdate_key), (false, id_key)]),
    );
    cases.push(
        case(u, "Patient", &[("_sort", "family,-_id")], |_| true)
            .sorted(u, &[(false, family_key), (true, id_key)]),
    );
    cases.push(case(u, "Patient", &[("_sort", "-_id")], |_| true).sorted(u, &[(true, id_key)]));
    cases.push(
        case(
            u,
            "Observation",
            &[("subject", "Patient/example"), ("_sort", "-date,_id")],
            |r| ref_matches(&u.refs(r, "subject"), "Patient/example", base, None),
        )
        .sorted(u, &[(true, date_key), (false, id_key)]),
    );

    // --- _include / _revinclude --------------------------------------------------------------
    cases.push(
        case(
            u,
            "DiagnosticReport",
            &[("_include", "DiagnosticReport:subject:Patient")],
            |_| true,
        )
        .including(u, |matched| u.forward(matched, "subject", Some("Patient"))),
    );
    cases.push(
        case(
            u,
            "ImagingStudy",
            &[
                ("_id", "jp-is-yamada-hanako-1"),
                ("_include", "ImagingStudy:basedon"),
                ("_include:iterate", "ServiceRequest:patient"),
            ],
            |r| r["id"] == "jp-is-yamada-hanako-1",
        )
        .including(u, |matched| {
            let orders = u.forward(matched, "basedOn", None);
            let order_values: Vec<&Value> = orders
                .iter()
                .filter_map(|key| key.split_once('/'))
                .filter(|(t, _)| *t == "ServiceRequest")
                .filter_map(|(t, id)| u.get(t, id))
                .collect();
            let mut all = orders;
            all.extend(u.forward(&order_values, "subject", Some("Patient")));
            all
        }),
    );
    cases.push(
        case(
            u,
            "Patient",
            &[
                ("_id", "jp-yamada-hanako"),
                ("_revinclude", "ServiceRequest:patient"),
                ("_revinclude:iterate", "ImagingStudy:basedon"),
            ],
            |r| r["id"] == "jp-yamada-hanako",
        )
        .including(u, |matched| {
            let orders = u.reverse(matched, "ServiceRequest", "subject");
            let order_values: Vec<&Value> = orders
                .iter()
                .filter_map(|key| key.split_once('/'))
                .filter_map(|(t, id)| u.get(t, id))
                .collect();
            let mut all = orders;
            all.extend(u.reverse(&order_values, "ImagingStudy", "basedOn"));
            all
        }),
    );
    cases.push(
        case(
            u,
            "Observation",
            &[
                ("code", "http://loinc.org|8310-5"),
                ("_revinclude", "DiagnosticReport:result"),
            ],
            |r| token_matches(&concept_tokens(r, "code"), "http://loinc.org|8310-5"),
        )
        .including(u, |matched| {
            u.reverse(matched, "DiagnosticReport", "result")
        }),
    );

    // --- composite, :of-type, terminology modifiers, _text and _content ----------------------
    let component_pairs = |r: &Value| -> Vec<(Vec<Token>, Vec<Quantity>)> {
        at(r, "component")
            .into_iter()
            .map(|part| {
                (
                    concept_tokens(part, "code"),
                    quantities(part, "valueQuantity"),
                )
            })
            .collect()
    };
    for (code, value, negative) in [
        ("8480-6", "gt140", None),
        ("8462-4", "lt80", None),
        (
            "8462-4",
            "gt100",
            Some("no diastolic is above 100; systolics are, in another component"),
        ),
    ] {
        let query = format!("http://loinc.org|{code}${value}");
        let wanted = format!("http://loinc.org|{code}");
        let found = case(
            u,
            "Observation",
            &[("component-code-value-quantity", query.as_str())],
            |r| {
                component_pairs(r).iter().any(|(codes, values)| {
                    token_matches(codes, &wanted) && quantity_matches(values, value)
                })
            },
        );
        cases.push(match negative {
            Some(why) => found.negative(why),
            None => found,
        });
    }
    cases.push(case(
        u,
        "Observation",
        &[(
            "code-value-quantity",
            "http://loinc.org|29463-7$ge70|http://unitsofmeasure.org|kg",
        )],
        |r| {
            token_matches(&concept_tokens(r, "code"), "http://loinc.org|29463-7")
                && quantity_matches(
                    &quantities(r, "valueQuantity"),
                    "ge70|http://unitsofmeasure.org|kg",
                )
        },
    ));
    let of_type = |r: &Value, path: &str, system: &str, code: &str, value: &str| {
        at(r, path).into_iter().any(|identifier| {
            identifier.get("value").and_then(Value::as_str) == Some(value)
                && coding_tokens(identifier, "type.coding")
                    .iter()
                    .any(|coding| {
                        coding.system.as_deref() == Some(system)
                            && coding.code.as_deref() == Some(code)
                    })
        })
    };
    cases.push(case(
        u,
        "Patient",
        &[(
            "identifier:of-type",
            "http://terminology.hl7.org/CodeSystem/v2-0203|MR|12345",
        )],
        |r| {
            of_type(
                r,
                "identifier",
                "http://terminology.hl7.org/CodeSystem/v2-0203",
                "MR",
                "12345",
            )
        },
    ));
    let in_set = |r: &Value, codes: &[(&str, &str)]| {
        // R4's `modality` parameter reads ImagingStudy.series.modality.
        coding_tokens(r, "series.modality").iter().any(|coding| {
            codes.iter().any(|(system, code)| {
                coding.system.as_deref() == Some(*system) && coding.code.as_deref() == Some(*code)
            })
        })
    };
    let ct_or_us = [
        ("http://dicom.nema.org/resources/ontology/DCM", "CT"),
        ("http://dicom.nema.org/resources/ontology/DCM", "US"),
    ];
    cases.push(case(
        u,
        "ImagingStudy",
        &[("modality:in", japanese::CT_OR_US)],
        |r| in_set(r, &ct_or_us),
    ));
    cases.push(case(
        u,
        "ImagingStudy",
        &[("modality:not-in", japanese::CT_OR_US)],
        |r| !in_set(r, &ct_or_us),
    ));
    // Order kinds: the test's own walk over the hierarchy table.
    let below = |code: &str| -> Vec<String> {
        let mut found = vec![code.to_owned()];
        let mut at_index = 0;
        while at_index < found.len() {
            let current = found[at_index].clone();
            at_index += 1;
            for (child, parent) in japanese::ORDER_KIND_PARENTS {
                if *parent == Some(current.as_str()) {
                    found.push((*child).to_owned());
                }
            }
        }
        found
    };
    let above = |code: &str| -> Vec<String> {
        let mut found = vec![code.to_owned()];
        let mut current = code.to_owned();
        while let Some((_, Some(parent))) = japanese::ORDER_KIND_PARENTS
            .iter()
            .find(|(child, _)| *child == current)
        {
            found.push((*parent).to_owned());
            current = (*parent).to_owned();
        }
        found
    };
    let kind_in = |r: &Value, codes: &[String]| {
        concept_tokens(r, "category").iter().any(|token| {
            token.system.as_deref() == Some(japanese::ORDER_KINDS)
                && token.code.as_ref().is_some_and(|code| codes.contains(code))
        })
    };
    for (modifier, code) in [
        ("below", "ct"),
        ("below", "imaging"),
        ("above", "ct-chest"),
        ("above", "mr"),
    ] {
        let codes = if modifier == "below" {
            below(code)
        } else {
            above(code)
        };
        let name = format!("category:{modifier}");
        let value = format!("{}|{code}", japanese::ORDER_KINDS);
        cases.push(case(
            u,
            "ServiceRequest",
            &[(name.as_str(), value.as_str())],
            |r| kind_in(r, &codes),
        ));
    }
    let imaging_kinds: Vec<String> = below("imaging");
    cases.push(case(
        u,
        "ServiceRequest",
        &[
            ("category:in", japanese::IMAGING_ORDERS),
            ("status", "active"),
        ],
        |r| kind_in(r, &imaging_kinds) && token_matches(&code_tokens(r, "status"), "active"),
    ));
    for (name, res_type, words) in [
        ("_text", "Patient", "chalmers"),
        ("_text", "Observation", "GLUCOSE mmol"),
        ("_content", "Observation", "8480-6"),
        ("_content", "Patient", "やまだ 東京都"),
        ("_content", "Patient", "PETER,henry"),
    ] {
        let narrative_only = name == "_text";
        cases.push(case(u, res_type, &[(name, words)], |r| {
            let text = fold(&if narrative_only {
                narrative_text(r)
            } else {
                all_text(r)
            });
            words.split(',').any(|alternative| {
                alternative
                    .split_whitespace()
                    .all(|word| text.contains(&fold(word)))
            })
        }));
    }
    cases
}

// ---------------------------------------------------------------------------------------------
// Running and judging

/// What the server answered over all pages.
struct Observed {
    /// `search.mode = match` ids, in the order of the pages.
    ids: Vec<String>,
    /// `search.mode = include` as `Type/id`.
    included: BTreeSet<String>,
    /// `Bundle.total` of the first page.
    total: Option<u64>,
    pages: usize,
}

async fn observe(server: &TestServer, case: &Case) -> Result<Observed, String> {
    let mut pairs = case.params.clone();
    if !pairs.iter().any(|(name, _)| name == "_count") {
        pairs.push(("_count".into(), PAGE_SIZE.into()));
    }
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&pairs)
        .finish();
    let mut url = format!("{}/{}?{query}", server.base, case.res_type);
    let mut observed = Observed {
        ids: Vec::new(),
        included: BTreeSet::new(),
        total: None,
        pages: 0,
    };
    loop {
        let response = server
            .client
            .get(&url)
            .send()
            .await
            .map_err(|error| error.to_string())?;
        let status = response.status().as_u16();
        let bundle: Value = response.json().await.unwrap_or(Value::Null);
        if status != 200 {
            return Err(format!(
                "page {} answered {status}: {}",
                observed.pages + 1,
                diagnostics(&bundle)
            ));
        }
        if observed.pages == 0 {
            observed.total = bundle["total"].as_u64();
        }
        observed.pages += 1;
        for entry in bundle["entry"].as_array().into_iter().flatten() {
            let resource = &entry["resource"];
            let (res_type, id) = key_of(resource);
            match entry["search"]["mode"].as_str() {
                Some("match") if res_type == case.res_type => observed.ids.push(id),
                Some("include") => {
                    observed.included.insert(format!("{res_type}/{id}"));
                }
                mode => return Err(format!("entry {res_type}/{id} has search.mode {mode:?}")),
            }
        }
        let next = bundle["link"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|link| link["relation"] == "next")
            .and_then(|link| link["url"].as_str());
        match next {
            Some(next) if observed.pages < 2_000 => url = next.to_owned(),
            Some(_) => return Err("more than 2,000 pages".into()),
            None => return Ok(observed),
        }
    }
}

/// `None` when the server agrees with the evaluator, else what differs.
fn judge(case: &Case, observed: &Result<Observed, String>) -> Option<String> {
    let observed = match observed {
        Ok(observed) => observed,
        Err(error) => return Some(error.clone()),
    };
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    let repeated: Vec<&String> = observed.ids.iter().filter(|id| !seen.insert(*id)).collect();
    if !repeated.is_empty() {
        problems.push(format!("repeated across pages: {repeated:?}"));
    }
    let want: BTreeSet<&String> = case.expected.iter().collect();
    let missing: Vec<&&String> = want.difference(&seen).collect();
    let extra: Vec<&&String> = seen.difference(&want).collect();
    if !missing.is_empty() {
        problems.push(format!("missing {}: {}", missing.len(), sample(&missing)));
    }
    if !extra.is_empty() {
        problems.push(format!("unexpected {}: {}", extra.len(), sample(&extra)));
    }
    if case.ordered
        && missing.is_empty()
        && extra.is_empty()
        && repeated.is_empty()
        && observed.ids != case.expected
    {
        let at = observed
            .ids
            .iter()
            .zip(&case.expected)
            .position(|(got, want)| got != want)
            .unwrap_or_default();
        problems.push(format!(
            "order differs at {at}: want {:?}, got {:?}",
            &case.expected[at..(at + 4).min(case.expected.len())],
            &observed.ids[at..(at + 4).min(observed.ids.len())]
        ));
    }
    if let Some(want) = &case.included {
        let missing: Vec<&String> = want.difference(&observed.included).collect();
        let extra: Vec<&String> = observed.included.difference(want).collect();
        if !missing.is_empty() {
            problems.push(format!(
                "included missing {}: {}",
                missing.len(),
                sample(&missing)
            ));
        }
        if !extra.is_empty() {
            problems.push(format!(
                "included unexpected {}: {}",
                extra.len(),
                sample(&extra)
            ));
        }
    }
    match (case.total_none, observed.total) {
        (true, Some(total)) => problems.push(format!("_total=none but total {total}")),
        (false, None) => problems.push("no total".into()),
        (false, Some(total)) if total != case.expected.len() as u64 => {
            problems.push(format!("total {total}, want {}", case.expected.len()))
        }
        _ => {}
    }
    (!problems.is_empty()).then(|| problems.join("; "))
}

fn sample<T: std::fmt::Debug>(items: &[T]) -> String {
    let shown: Vec<String> = items
        .iter()
        .take(6)
        .map(|item| format!("{item:?}"))
        .collect();
    let more = if items.len() > 6 { ", …" } else { "" };
    format!("{}{more}", shown.join(", "))
}

// ---------------------------------------------------------------------------------------------
// The evaluator

/// FHIR search semantics over JSON values, written from the specification and the gateway's
/// documented choices, independently of its code.
mod eval {
    use serde_json::Value;

    /// Milliseconds in a day.
    pub const DAY_MS: i64 = 86_400_000;

    /// Every value at a dotted path, arrays flattened at each step.
    pub fn at<'a>(value: &'a Value, path: &str) -> Vec<&'a Value> {
        let mut current = vec![value];
        for step in path.split('.') {
            let mut next = Vec::new();
            for item in current {
                match item.get(step) {
                    Some(Value::Array(items)) => next.extend(items.iter()),
                    Some(Value::Null) | None => {}
                    Some(other) => next.push(other),
                }
            }
            current = next;
        }
        current
    }

    /// The strings at a path.
    pub fn strings(value: &Value, path: &str) -> Vec<String> {
        at(value, path)
            .into_iter()
            .filter_map(|item| item.as_str().map(str::to_owned))
            .collect()
    }

    /// Every searchable part of the HumanNames at `path`: family, given, prefix, suffix, text.
    pub fn human_names(value: &Value, path: &str) -> Vec<String> {
        let mut parts = Vec::new();
        for name in at(value, path) {
            for field in ["family", "given", "prefix", "suffix", "text"] {
                parts.extend(strings(name, field));
            }
        }
        parts
    }

    /// Every searchable part of the Addresses at `path`.
    pub fn address_parts(value: &Value, path: &str) -> Vec<String> {
        let mut parts = Vec::new();
        for address in at(value, path) {
            for field in [
                "line",
                "city",
                "district",
                "state",
                "postalCode",
                "country",
                "text",
            ] {
                parts.extend(strings(address, field));
            }
        }
        parts
    }

    // --- strings -----------------------------------------------------------------------------

    /// How a string parameter compares.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum StringMode {
        Prefix,
        Exact,
        Contains,
    }

    pub fn string_matches(values: &[String], query: &str, mode: StringMode) -> bool {
        let folded = fold(query);
        values.iter().any(|value| match mode {
            StringMode::Exact => value == query,
            StringMode::Prefix => fold(value).starts_with(&folded),
            StringMode::Contains => fold(value).contains(&folded),
        })
    }

    /// Half-width katakana U+FF61..=U+FF9D as their full-width forms (what NFKC does).
    const HALF_WIDTH_KATAKANA: &str = "。「」、・ヲァィゥェォャュョッーアイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワン";

    /// Lower-case Latin letters with accents, by the letter they fold to.
    const ACCENTED: &[(&str, char)] = &[
        ("àáâãäåāăąǎ", 'a'),
        ("çćĉċč", 'c'),
        ("ď", 'd'),
        ("èéêëēĕėęě", 'e'),
        ("ĝğġģ", 'g'),
        ("ĥ", 'h'),
        ("ìíîïĩīĭįǐ", 'i'),
        ("ĵ", 'j'),
        ("ķ", 'k'),
        ("ĺļľ", 'l'),
        ("ñńņň", 'n'),
        ("òóôõöōŏőǒ", 'o'),
        ("ŕŗř", 'r'),
        ("śŝşš", 's'),
        ("ţť", 't'),
        ("ùúûüũūŭůűųǔ", 'u'),
        ("ŵ", 'w'),
        ("ýÿŷ", 'y'),
        ("źżž", 'z'),
    ];

    /// Case-, width- and accent-insensitive form: compatibility width forms as NFKC maps them
    /// (full-width Latin, half-width katakana with their voicing marks, ideographic space),
    /// kana voicing marks composed, lower case, Latin accents removed, whitespace collapsed.
    /// Kana keep their voicing (ダ is not タ) and kanji are unchanged.
    pub fn fold(text: &str) -> String {
        let mut widened: Vec<char> = Vec::with_capacity(text.len());
        for c in text.chars() {
            let code = c as u32;
            let mapped = match code {
                0xFF01..=0xFF5E => char::from_u32(code - 0xFEE0).unwrap_or(c),
                0x3000 | 0x00A0 => ' ',
                0xFF61..=0xFF9D => HALF_WIDTH_KATAKANA
                    .chars()
                    .nth((code - 0xFF61) as usize)
                    .unwrap_or(c),
                0xFF9E => '\u{3099}',
                0xFF9F => '\u{309A}',
                0x00B2 => '2',
                0x00B3 => '3',
                0x00B9 => '1',
                0x00B5 => 'μ',
                _ => c,
            };
            if let (Some(last), '\u{3099}' | '\u{309A}') = (widened.last().copied(), mapped) {
                if let Some(voiced) = voice(last, mapped) {
                    widened.pop();
                    widened.push(voiced);
                    continue;
                }
            }
            widened.push(mapped);
        }
        let mut folded = String::with_capacity(text.len());
        let mut after_latin = false;
        for c in widened.into_iter().flat_map(char::to_lowercase) {
            if ('\u{0300}'..='\u{036F}').contains(&c) && after_latin {
                continue;
            }
            let plain = ACCENTED
                .iter()
                .find(|(accented, _)| accented.contains(c))
                .map_or(c, |(_, letter)| *letter);
            after_latin = plain.is_ascii_alphabetic();
            folded.push(plain);
        }
        folded.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// A kana with a (han)dakuten composed, as NFC composes it.
    fn voice(kana: char, mark: char) -> Option<char> {
        const VOICEABLE: &str = "かきくけこさしすせそたちつてとはひふへほ";
        const SEMI_VOICEABLE: &str = "はひふへほ";
        let katakana = ('\u{30A1}'..='\u{30F6}').contains(&kana);
        let hiragana = if katakana {
            char::from_u32(kana as u32 - 0x60)?
        } else {
            kana
        };
        let shift = match (mark, hiragana) {
            ('\u{3099}', 'う') => return Some(if katakana { 'ヴ' } else { 'ゔ' }),
            ('\u{3099}', h) if VOICEABLE.contains(h) => 1,
            ('\u{309A}', h) if SEMI_VOICEABLE.contains(h) => 2,
            _ => return None,
        };
        char::from_u32(kana as u32 + shift)
    }

    // --- tokens ------------------------------------------------------------------------------

    /// One indexed token: system, code and the texts `:text` searches.
    #[derive(Debug, Clone, Default)]
    pub struct Token {
        pub system: Option<String>,
        pub code: Option<String>,
        pub texts: Vec<String>,
    }

    fn text_of(value: &Value, field: &str) -> Option<String> {
        value.get(field).and_then(Value::as_str).map(str::to_owned)
    }

    fn coding(value: &Value) -> Token {
        Token {
            system: text_of(value, "system"),
            code: text_of(value, "code"),
            texts: text_of(value, "display").into_iter().collect(),
        }
    }

    /// The Codings at `path`.
    pub fn coding_tokens(value: &Value, path: &str) -> Vec<Token> {
        at(value, path).into_iter().map(coding).collect()
    }

    /// The CodeableConcepts at `path`: each coding, and the concept's text.
    pub fn concept_tokens(value: &Value, path: &str) -> Vec<Token> {
        let mut tokens = Vec::new();
        for concept in at(value, path) {
            tokens.extend(at(concept, "coding").into_iter().map(coding));
            if let Some(text) = text_of(concept, "text") {
                tokens.push(Token {
                    texts: vec![text],
                    ..Token::default()
                });
            }
        }
        tokens
    }

    /// The Identifiers at `path`.
    pub fn identifier_tokens(value: &Value, path: &str) -> Vec<Token> {
        at(value, path)
            .into_iter()
            .map(|identifier| Token {
                system: text_of(identifier, "system"),
                code: text_of(identifier, "value"),
                texts: strings(identifier, "type.text"),
            })
            .collect()
    }

    /// The `code`, `string` or `boolean` primitives at `path`.
    pub fn code_tokens(value: &Value, path: &str) -> Vec<Token> {
        at(value, path)
            .into_iter()
            .filter_map(|item| match item {
                Value::String(text) => Some(text.clone()),
                Value::Bool(flag) => Some(flag.to_string()),
                _ => None,
            })
            .map(|code| Token {
                code: Some(code),
                ..Token::default()
            })
            .collect()
    }

    /// `code`, `system|code`, `|code` (no system) or `system|` (any code of the system).
    pub fn token_matches(tokens: &[Token], query: &str) -> bool {
        tokens.iter().any(|token| match query.split_once('|') {
            None => token.code.as_deref() == Some(query),
            Some(("", code)) => token.system.is_none() && token.code.as_deref() == Some(code),
            Some((system, "")) => token.system.as_deref() == Some(system),
            Some((system, code)) => {
                token.system.as_deref() == Some(system) && token.code.as_deref() == Some(code)
            }
        })
    }

    /// `:text`: a display text or concept text starts with the folded query.
    pub fn token_text_matches(tokens: &[Token], query: &str) -> bool {
        let folded = fold(query);
        tokens
            .iter()
            .flat_map(|token| &token.texts)
            .any(|text| fold(text).starts_with(&folded))
    }

    // --- _text and _content --------------------------------------------------------------

    /// XHTML without its tags (each tag a space), with `&amp;`-style and numeric entities
    /// decoded.
    pub fn without_markup(xhtml: &str) -> String {
        let mut out = String::new();
        let mut in_tag = false;
        let mut entity: Option<String> = None;
        for c in xhtml.chars() {
            if in_tag {
                in_tag = c != '>';
                continue;
            }
            if let Some(name) = entity.as_mut() {
                if c == ';' {
                    let decoded = match name.as_str() {
                        "amp" => Some('&'),
                        "lt" => Some('<'),
                        "gt" => Some('>'),
                        "quot" => Some('"'),
                        "apos" => Some('\''),
                        "nbsp" => Some(' '),
                        other if other.starts_with("#x") || other.starts_with("#X") => {
                            u32::from_str_radix(&other[2..], 16)
                                .ok()
                                .and_then(char::from_u32)
                        }
                        other if other.starts_with('#') => {
                            other[1..].parse().ok().and_then(char::from_u32)
                        }
                        _ => None,
                    };
                    match decoded {
                        Some(c) => out.push(c),
                        None => out.push_str(&format!("&{name};")),
                    }
                    entity = None;
                } else if name.len() < 10 && c != '&' && c != '<' {
                    name.push(c);
                } else {
                    out.push('&');
                    out.push_str(name);
                    entity = None;
                    if c == '<' {
                        out.push(' ');
                        in_tag = true;
                    } else if c == '&' {
                        entity = Some(String::new());
                    } else {
                        out.push(c);
                    }
                }
                continue;
            }
            match c {
                '<' => {
                    out.push(' ');
                    in_tag = true;
                }
                '&' => entity = Some(String::new()),
                other => out.push(other),
            }
        }
        if let Some(name) = entity {
            out.push('&');
            out.push_str(&name);
        }
        out
    }

    /// The narrative's text.
    pub fn narrative_text(resource: &Value) -> String {
        at(resource, "text.div")
            .first()
            .and_then(|div| div.as_str())
            .map(without_markup)
            .unwrap_or_default()
    }

    /// Every string of the resource (the narrative without markup), `resourceType` aside.
    pub fn all_text(resource: &Value) -> String {
        fn walk(value: &Value, key: &str, out: &mut String) {
            match value {
                Value::String(text) if key == "div" => {
                    out.push(' ');
                    out.push_str(&without_markup(text));
                }
                Value::String(text) if key != "resourceType" => {
                    out.push(' ');
                    out.push_str(text);
                }
                Value::Array(items) => items.iter().for_each(|item| walk(item, key, out)),
                Value::Object(object) => {
                    for (name, item) in object {
                        walk(item, name, out);
                    }
                }
                _ => {}
            }
        }
        let mut out = String::new();
        walk(resource, "", &mut out);
        out
    }

    // --- dates -------------------------------------------------------------------------------

    /// Days from 1970-01-01 to a proleptic Gregorian date.
    pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
        let mut days = 0;
        // Whole years from 1970 (or back), then months, then days: slow and obvious.
        if year >= 1970 {
            for y in 1970..year {
                days += if is_leap(y) { 366 } else { 365 };
            }
        } else {
            for y in year..1970 {
                days -= if is_leap(y) { 366 } else { 365 };
            }
        }
        for m in 1..month {
            days += days_in_month(year, m);
        }
        days + day - 1
    }

    /// The inverse of [`days_from_civil`].
    pub fn civil_from_days(mut days: i64) -> (i64, i64, i64) {
        let mut year = 1970;
        loop {
            let length = if is_leap(year) { 366 } else { 365 };
            if days < 0 {
                year -= 1;
                days += if is_leap(year) { 366 } else { 365 };
            } else if days >= length {
                days -= length;
                year += 1;
            } else {
                break;
            }
        }
        let mut month = 1;
        while days >= days_in_month(year, month) {
            days -= days_in_month(year, month);
            month += 1;
        }
        (year, month, days + 1)
    }

    fn is_leap(year: i64) -> bool {
        (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
    }

    fn days_in_month(year: i64, month: i64) -> i64 {
        match month {
            2 if is_leap(year) => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        }
    }

    /// The millisecond range (inclusive, UTC) a FHIR date, dateTime or instant covers.
    pub fn date_range(text: &str) -> Option<(i64, i64)> {
        let number = |from: usize, to: usize| -> Option<i64> {
            let part = text.get(from..to)?;
            part.bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| part.parse().ok())?
        };
        let year = number(0, 4)?;
        let day_start = |y, m, d| days_from_civil(y, m, d) * DAY_MS;
        match text.len() {
            4 => return Some((day_start(year, 1, 1), day_start(year + 1, 1, 1) - 1)),
            7 => {
                let month = number(5, 7)?;
                let (ny, nm) = if month == 12 {
                    (year + 1, 1)
                } else {
                    (year, month + 1)
                };
                return Some((day_start(year, month, 1), day_start(ny, nm, 1) - 1));
            }
            10 => {
                let start = day_start(year, number(5, 7)?, number(8, 10)?);
                return Some((start, start + DAY_MS - 1));
            }
            _ => {}
        }
        if text.as_bytes().get(10) != Some(&b'T') {
            return None;
        }
        let midnight = day_start(year, number(5, 7)?, number(8, 10)?);
        let (hour, minute, second) = (number(11, 13)?, number(14, 16)?, number(17, 19)?);
        let mut rest = text.get(19..)?;
        let (mut fraction_ms, mut span) = (0, 1000);
        if let Some(digits) = rest.strip_prefix('.') {
            let length = digits.bytes().take_while(u8::is_ascii_digit).count();
            for digit in digits[..length].bytes().take(3) {
                span /= 10;
                fraction_ms += i64::from(digit - b'0') * span;
            }
            rest = &digits[length..];
        }
        let zone_minutes = match rest {
            "Z" => 0,
            _ => {
                let sign = match rest.as_bytes().first()? {
                    b'+' => 1,
                    b'-' => -1,
                    _ => return None,
                };
                let hours: i64 = rest.get(1..3)?.parse().ok()?;
                let minutes: i64 = rest.get(4..6)?.parse().ok()?;
                sign * (hours * 60 + minutes)
            }
        };
        let low =
            midnight + ((hour * 60 + minute - zone_minutes) * 60 + second) * 1000 + fraction_ms;
        Some((low, low + span - 1))
    }

    /// The date, dateTime or instant primitives at `path`.
    pub fn dates(value: &Value, path: &str) -> Vec<(i64, i64)> {
        at(value, path)
            .into_iter()
            .filter_map(|item| item.as_str().and_then(date_range))
            .collect()
    }

    /// The Periods at `path` (an open end reaches to the end of time).
    pub fn periods(value: &Value, path: &str) -> Vec<(i64, i64)> {
        at(value, path).into_iter().filter_map(period).collect()
    }

    fn period(period: &Value) -> Option<(i64, i64)> {
        let start = period
            .get("start")
            .and_then(Value::as_str)
            .and_then(date_range);
        let end = period
            .get("end")
            .and_then(Value::as_str)
            .and_then(date_range);
        if start.is_none() && end.is_none() {
            return None;
        }
        Some((
            start.map_or(i64::MIN, |r| r.0),
            end.map_or(i64::MAX, |r| r.1),
        ))
    }

    /// A `name[x]` date choice: dateTime, instant, date or Period.
    pub fn effective(value: &Value, name: &str) -> Vec<(i64, i64)> {
        let mut ranges = Vec::new();
        for suffix in ["DateTime", "Instant", "Date"] {
            ranges.extend(dates(value, &format!("{name}{suffix}")));
        }
        ranges.extend(periods(value, &format!("{name}Period")));
        ranges
    }

    /// A prefix (`eq` when none) and the rest.
    fn split_prefix(query: &str) -> (&str, &str) {
        for prefix in ["eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap"] {
            if let Some(rest) = query.strip_prefix(prefix) {
                return (prefix, rest);
            }
        }
        ("eq", query)
    }

    /// A date query against the ranges a resource has: any range meeting it.
    pub fn date_matches(ranges: &[(i64, i64)], query: &str) -> bool {
        let (prefix, text) = split_prefix(query);
        let Some((low, high)) = date_range(text) else {
            panic!("evaluator: bad date in {query}")
        };
        ranges.iter().any(|&(value_low, value_high)| match prefix {
            "eq" => value_low >= low && value_high <= high,
            "ne" => !(value_low >= low && value_high <= high),
            "gt" => value_high > high,
            "lt" => value_low < low,
            "ge" => value_high >= low,
            "le" => value_low <= high,
            "sa" => value_low > high,
            "eb" => value_high < low,
            "ap" => {
                let margin = ((high - low) / 10).max(DAY_MS);
                value_high >= low - margin && value_low <= high + margin
            }
            _ => unreachable!(),
        })
    }

    // --- numbers and quantities --------------------------------------------------------------

    /// The numbers at `path`.
    pub fn numbers(value: &Value, path: &str) -> Vec<f64> {
        at(value, path)
            .into_iter()
            .filter_map(Value::as_f64)
            .collect()
    }

    /// A Quantity's value and units.
    #[derive(Debug, Clone)]
    pub struct Quantity {
        pub value: f64,
        pub system: Option<String>,
        pub code: Option<String>,
        pub unit: Option<String>,
    }

    /// The Quantities (with a value) at `path`.
    pub fn quantities(value: &Value, path: &str) -> Vec<Quantity> {
        at(value, path)
            .into_iter()
            .filter_map(|quantity| {
                Some(Quantity {
                    value: quantity.get("value")?.as_f64()?,
                    system: text_of(quantity, "system"),
                    code: text_of(quantity, "code"),
                    unit: text_of(quantity, "unit"),
                })
            })
            .collect()
    }

    /// `[prefix]number`: the precision range of the number as written is half a unit of its
    /// last digit either side (`6.3` is 6.25 up to 6.35).
    fn number_matches_one(value: f64, prefix: &str, number: &str) -> bool {
        let target: f64 = number
            .parse()
            .unwrap_or_else(|_| panic!("evaluator: bad number {number}"));
        let decimals = number
            .split_once('.')
            .map_or(0, |(_, fraction)| fraction.len());
        let half = 0.5 * 10f64.powi(-(decimals as i32));
        let (low, high) = (target - half, target + half);
        match prefix {
            "eq" => value >= low && value < high,
            "ne" => !(value >= low && value < high),
            "gt" | "sa" => value > target,
            "lt" | "eb" => value < target,
            "ge" => value >= target,
            "le" => value <= target,
            "ap" => {
                let margin = (target.abs() * 0.1).max(high - low);
                value >= target - margin && value <= target + margin
            }
            _ => unreachable!(),
        }
    }

    pub fn number_matches(values: &[f64], query: &str) -> bool {
        let (prefix, number) = split_prefix(query);
        values
            .iter()
            .any(|&value| number_matches_one(value, prefix, number))
    }

    /// `[prefix]number[|system|code]`; the code matches Quantity.code or Quantity.unit.
    pub fn quantity_matches(values: &[Quantity], query: &str) -> bool {
        let (prefix, rest) = split_prefix(query);
        let mut parts = rest.split('|');
        let number = parts.next().unwrap_or_default();
        let system = parts.next().filter(|s| !s.is_empty());
        let code = parts.next().filter(|c| !c.is_empty());
        values.iter().any(|quantity| {
            number_matches_one(quantity.value, prefix, number)
                && system.is_none_or(|system| quantity.system.as_deref() == Some(system))
                && code.is_none_or(|code| {
                    quantity.code.as_deref() == Some(code) || quantity.unit.as_deref() == Some(code)
                })
        })
    }

    // --- uri ---------------------------------------------------------------------------------

    /// How a uri parameter compares.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum UriMode {
        Exact,
        /// The stored URI starts with the query.
        Below,
        /// The query starts with the stored URI.
        Above,
    }

    pub fn uri_matches(values: &[String], query: &str, mode: UriMode) -> bool {
        values.iter().any(|value| match mode {
            UriMode::Exact => value == query,
            UriMode::Below => value.starts_with(query),
            UriMode::Above => query.starts_with(value.as_str()),
        })
    }

    // --- references --------------------------------------------------------------------------

    /// One Reference as search sees it.
    #[derive(Debug, Clone)]
    pub struct Ref {
        /// `Reference.reference` as written.
        pub reference: Option<String>,
        /// Type and id on this server: a relative `Type/id` or one under the server's base.
        pub local: Option<(String, String)>,
        /// `Reference.identifier` (system, value).
        pub identifier: Option<(Option<String>, String)>,
    }

    impl Ref {
        /// Whether the reference names a resource of `res_type` (here or, for an absolute
        /// URL, on another server) — what `where(resolve() is Patient)` keeps.
        pub fn points_to(&self, res_type: &str) -> bool {
            if let Some((local_type, _)) = &self.local {
                return local_type == res_type;
            }
            self.reference.as_deref().is_some_and(|reference| {
                let mut segments = reference.rsplit('/');
                let _id = segments.next();
                segments.next() == Some(res_type)
            })
        }
    }

    /// The References among `values`.
    pub fn refs(values: &[&Value], base: &str) -> Vec<Ref> {
        values
            .iter()
            .filter(|value| value.is_object())
            .map(|value| {
                let reference = text_of(value, "reference");
                let local = reference.as_deref().and_then(|text| local(text, base));
                let identifier = value.get("identifier").and_then(|identifier| {
                    Some((text_of(identifier, "system"), text_of(identifier, "value")?))
                });
                Ref {
                    reference,
                    local,
                    identifier,
                }
            })
            .collect()
    }

    /// `Type/id` (optionally `/_history/n`, optionally under this server's base).
    fn local(reference: &str, base: &str) -> Option<(String, String)> {
        let relative = reference
            .strip_prefix(base)
            .and_then(|rest| rest.strip_prefix('/'))
            .unwrap_or(reference);
        if relative.contains(':') || relative.starts_with('#') {
            return None;
        }
        let segments: Vec<&str> = relative.split('/').collect();
        match segments.as_slice() {
            [res_type, id] | [res_type, id, "_history", _]
                if res_type.starts_with(|c: char| c.is_ascii_uppercase()) && !id.is_empty() =>
            {
                Some(((*res_type).to_owned(), (*id).to_owned()))
            }
            _ => None,
        }
    }

    /// A reference query: `Type/id`, a bare `id` (any type, or `type_modifier`), this
    /// server's `[base]/Type/id`, or any other absolute URL (compared as written).
    pub fn ref_matches(refs: &[Ref], query: &str, base: &str, type_modifier: Option<&str>) -> bool {
        let relative = query
            .strip_prefix(base)
            .and_then(|rest| rest.strip_prefix('/'))
            .unwrap_or(query);
        if relative.contains("://") || relative.starts_with("urn:") {
            return refs
                .iter()
                .any(|reference| reference.reference.as_deref() == Some(query));
        }
        refs.iter().any(|reference| {
            let Some((res_type, id)) = &reference.local else {
                return false;
            };
            type_modifier.is_none_or(|wanted| wanted == res_type)
                && match relative.split_once('/') {
                    Some((wanted_type, wanted_id)) => wanted_type == res_type && wanted_id == id,
                    None => relative == id,
                }
        })
    }

    /// `:identifier` with `system|value` or `value`.
    pub fn identifier_ref_matches(refs: &[Ref], query: &str) -> bool {
        let (system, value) = match query.split_once('|') {
            Some((system, value)) => (Some(system), value),
            None => (None, query),
        };
        refs.iter().any(|reference| {
            reference
                .identifier
                .as_ref()
                .is_some_and(|(id_system, id_value)| {
                    id_value == value
                        && system.is_none_or(|system| id_system.as_deref() == Some(system))
                })
        })
    }

    // --- sorting -----------------------------------------------------------------------------

    /// What a resource sorts by.
    #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
    pub enum SortValue {
        Instant(i64),
        Text(String),
    }

    /// Ascending: the earliest start; descending: the latest end.
    pub fn date_sort_value(ranges: &[(i64, i64)], descending: bool) -> Option<SortValue> {
        let value = if descending {
            ranges.iter().map(|r| r.1).max()
        } else {
            ranges.iter().map(|r| r.0).min()
        };
        value.map(SortValue::Instant)
    }

    /// Ascending: the least folded value; descending: the greatest.
    pub fn text_sort_value(values: &[String], descending: bool) -> Option<SortValue> {
        let folded = values.iter().map(|value| fold(value));
        let value = if descending {
            folded.max()
        } else {
            folded.min()
        };
        value.map(SortValue::Text)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn folding_matches_nfkc_case_and_accents() {
            assert_eq!(fold("ﾔﾏﾀﾞ ﾊﾟﾝ"), "ヤマダ パン");
            assert_eq!(fold("ＹＡＭＡＤＡ　Taro"), "yamada taro");
            assert_eq!(fold("José MÜLLER"), "jose muller");
            assert_eq!(fold("か\u{3099}"), "が");
            assert_eq!(HALF_WIDTH_KATAKANA.chars().count(), 0xFF9D - 0xFF61 + 1);
        }

        #[test]
        fn dates_cover_their_precision() {
            let day = date_range("2024-02-29").unwrap();
            assert_eq!(day.1 - day.0, DAY_MS - 1);
            assert_eq!(civil_from_days(days_from_civil(2024, 2, 29)), (2024, 2, 29));
            let tokyo = date_range("2024-04-10T10:00:00+09:00").unwrap();
            assert_eq!(tokyo.0, date_range("2024-04-10T01:00:00Z").unwrap().0);
            assert_eq!(date_range("1969-12-31").unwrap().0, -DAY_MS);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Made-up Japanese data

/// Made-up patients (JP Core style names: kanji `IDE`, kana `SYL`, romaji `ABC` representation)
/// with two orders each (one active), a study per order, a report on the first study and two
/// results. No real people.
mod japanese {
    use serde_json::{json, Value};

    /// JP Core patient id system: `urn:oid:1.2.392.100495.20.3.51.1` + a made-up institution.
    pub const PATIENT_ID_SYSTEM: &str = "urn:oid:1.2.392.100495.20.3.51.11318814790";
    const NAME_REPRESENTATION: &str =
        "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation";
    const UCUM: &str = "http://unitsofmeasure.org";
    const LOINC: &str = "http://loinc.org";
    const DCM: &str = "http://dicom.nema.org/resources/ontology/DCM";
    /// A made-up code system of order kinds, stored as a CodeSystem with this hierarchy.
    pub const ORDER_KINDS: &str = "http://example.org/tsunagi/CodeSystem/order-kinds";
    /// Each order kind and its parent.
    pub const ORDER_KIND_PARENTS: &[(&str, Option<&str>)] = &[
        ("imaging", None),
        ("ct", Some("imaging")),
        ("ct-chest", Some("ct")),
        ("mr", Some("imaging")),
        ("lab", None),
    ];
    /// A stored ValueSet listing the DICOM modalities CT and US.
    pub const CT_OR_US: &str = "http://example.org/tsunagi/ValueSet/ct-or-us";
    /// A stored ValueSet: every order kind that is-a `imaging`, by filter.
    pub const IMAGING_ORDERS: &str = "http://example.org/tsunagi/ValueSet/imaging-orders";

    /// The order-kind concepts nested under `parent`.
    fn order_kind_concepts(parent: Option<&str>) -> Vec<Value> {
        ORDER_KIND_PARENTS
            .iter()
            .filter(|(_, above)| *above == parent)
            .map(|(code, _)| {
                let children = order_kind_concepts(Some(code));
                if children.is_empty() {
                    json!({ "code": code })
                } else {
                    json!({ "code": code, "concept": children })
                }
            })
            .collect()
    }

    /// The terminology resources `:in`, `:not-in`, `:below` and `:above` read.
    fn terminology() -> Vec<Value> {
        vec![
            json!({
                "resourceType": "CodeSystem", "id": "jp-order-kinds", "url": ORDER_KINDS,
                "status": "active", "content": "complete", "hierarchyMeaning": "is-a",
                "concept": order_kind_concepts(None)
            }),
            json!({
                "resourceType": "ValueSet", "id": "jp-ct-or-us", "url": CT_OR_US, "status": "active",
                "compose": { "include": [{ "system": DCM, "concept": [{ "code": "CT" }, { "code": "US" }] }] }
            }),
            json!({
                "resourceType": "ValueSet", "id": "jp-imaging-orders", "url": IMAGING_ORDERS, "status": "active",
                "compose": { "include": [{ "system": ORDER_KINDS, "filter": [{ "property": "concept", "op": "is-a", "value": "imaging" }] }] }
            }),
        ]
    }

    /// id suffix, kanji (family, given, separator), kana (family, given), romaji, gender,
    /// birth date, identifier value, prefecture and city, weight (kg), temperature (Cel).
    type Person = (
        &'static str,
        (&'static str, &'static str, &'static str),
        (&'static str, &'static str),
        Option<(&'static str, &'static str)>,
        &'static str,
        Option<&'static str>,
        &'static str,
        (&'static str, &'static str),
        f64,
        f64,
    );

    const PEOPLE: &[Person] = &[
        (
            "yamada-taro",
            ("山田", "太郎", "\u{3000}"),
            ("やまだ", "たろう"),
            Some(("Yamada", "Taro")),
            "male",
            Some("1970-04-01"),
            "00000001",
            ("東京都", "千代田区"),
            68.5,
            36.5,
        ),
        (
            "yamada-hanako",
            ("山田", "花子", " "),
            ("ヤマダ", "ハナコ"),
            None,
            "female",
            Some("1972-08-15"),
            "00000002",
            ("大阪府", "大阪市北区"),
            52.0,
            37.8,
        ),
        (
            "yamada-jiro",
            ("山田", "次郎", " "),
            ("やまだ", "じろう"),
            None,
            "male",
            Some("1974-12-25"),
            "00000003",
            ("東京都", "世田谷区"),
            75.2,
            36.9,
        ),
        (
            "yamamoto-ichiro",
            ("山本", "一郎", " "),
            ("やまもと", "いちろう"),
            None,
            "male",
            Some("1955-11-03"),
            "00000004",
            ("京都府", "京都市左京区"),
            81.0,
            38.4,
        ),
        (
            "sato-haruto",
            ("佐藤", "陽翔", " "),
            ("サトウ", "ハルト"),
            None,
            "male",
            Some("2010-01-20"),
            "00000005",
            ("北海道", "札幌市中央区"),
            32.4,
            36.6,
        ),
        (
            "oyamada-keigo",
            ("小山田", "圭吾", " "),
            ("おやまだ", "けいご"),
            None,
            "male",
            Some("1969-01-27"),
            "00000006",
            ("神奈川県", "横浜市中区"),
            70.0,
            36.2,
        ),
        (
            "tanaka-yui",
            ("田中", "結衣", " "),
            ("たなか", "ゆい"),
            None,
            "female",
            None,
            "00000007",
            ("福岡県", "福岡市博多区"),
            48.75,
            37.1,
        ),
        (
            "muller-jose",
            ("", "", ""),
            ("", ""),
            Some(("Müller", "José")),
            "male",
            Some("1980-02-29"),
            "00000008",
            ("兵庫県", "神戸市中央区"),
            90.5,
            36.8,
        ),
    ];

    fn name(representation: &str, family: &str, given: &str, separator: &str) -> Value {
        json!({
            "extension": [{ "url": NAME_REPRESENTATION, "valueCode": representation }],
            "use": "official",
            "text": format!("{family}{separator}{given}"),
            "family": family,
            "given": [given]
        })
    }

    fn reference(res_type: &str, id: &str) -> Value {
        json!({ "reference": format!("{res_type}/{id}") })
    }

    /// Every made-up resource.
    pub fn resources() -> Vec<Value> {
        let mut resources = terminology();
        for (index, person) in PEOPLE.iter().enumerate() {
            let &(
                key,
                kanji,
                kana,
                romaji,
                gender,
                birth_date,
                number,
                (prefecture, city),
                weight,
                temperature,
            ) = person;
            let month = index + 1;
            let patient_id = format!("jp-{key}");
            let mut names = Vec::new();
            if !kanji.0.is_empty() {
                names.push(name("IDE", kanji.0, kanji.1, kanji.2));
                names.push(name("SYL", kana.0, kana.1, " "));
            }
            if let Some((family, given)) = romaji {
                names.push(name("ABC", family, given, " "));
            }
            let mut patient = json!({
                "resourceType": "Patient",
                "id": patient_id,
                "meta": { "profile": ["http://jpfhir.jp/fhir/core/StructureDefinition/JP_Patient"] },
                "identifier": [{ "system": PATIENT_ID_SYSTEM, "value": number }],
                "active": true,
                "name": names,
                "telecom": [{ "system": "phone", "value": format!("03-0000-{}", &number[4..]), "use": "home" }],
                "gender": gender,
                "address": [{
                    "text": format!("{prefecture}{city}1-{month}"),
                    "line": [format!("1-{month}")],
                    "city": city,
                    "state": prefecture,
                    "postalCode": format!("100-000{month}"),
                    "country": "JP"
                }]
            });
            if let Some(birth_date) = birth_date {
                patient["birthDate"] = json!(birth_date);
            }
            resources.push(patient);
            let subject = reference("Patient", &patient_id);
            let day = |d: u32, time: &str| format!("2024-{month:02}-{d:02}T{time}+09:00");
            let orders = [
                (
                    "1",
                    "active",
                    "24627-2",
                    "CT Chest",
                    "胸部CT",
                    "CT",
                    day(5, "09:00:00"),
                    "ct-chest",
                ),
                (
                    "2",
                    "completed",
                    "24590-2",
                    "MR Brain",
                    "頭部MRI",
                    "MR",
                    day(6, "09:00:00"),
                    "mr",
                ),
            ];
            for (n, status, code, display, text, modality, authored, kind) in orders {
                let order_id = format!("jp-sr-{key}-{n}");
                resources.push(json!({
                    "resourceType": "ServiceRequest",
                    "id": order_id,
                    "identifier": [{ "system": "urn:oid:1.2.392.100495.20.3.11.11318814790", "value": format!("ORD-{number}-{n}") }],
                    "status": status,
                    "intent": "order",
                    "category": [
                        { "coding": [{ "system": "http://snomed.info/sct", "code": "363679005", "display": "Imaging" }] },
                        { "coding": [{ "system": ORDER_KINDS, "code": kind }] }
                    ],
                    "code": { "coding": [{ "system": LOINC, "code": code, "display": display }], "text": text },
                    "subject": subject,
                    "authoredOn": authored,
                    "requester": { "display": "鈴木 一郎" }
                }));
                let study_uid = format!("1.2.392.200036.9116.2.6.1.48.{}.{n}", index + 1);
                resources.push(json!({
                    "resourceType": "ImagingStudy",
                    "id": format!("jp-is-{key}-{n}"),
                    "identifier": [{ "system": "urn:dicom:uid", "value": format!("urn:oid:{study_uid}") }],
                    "status": "available",
                    "modality": [{ "system": DCM, "code": modality }],
                    "subject": subject,
                    "started": day(10 + n.parse::<u32>().unwrap_or(0), "10:00:00"),
                    "basedOn": [reference("ServiceRequest", &order_id)],
                    "numberOfSeries": 1,
                    "numberOfInstances": 1,
                    "series": [{
                        "uid": format!("{study_uid}.1"),
                        "number": 1,
                        "modality": { "system": DCM, "code": modality },
                        "description": display,
                        "numberOfInstances": 1,
                        "instance": [{
                            "uid": format!("{study_uid}.1.1"),
                            "sopClass": { "system": "urn:ietf:rfc:3986", "code": "urn:oid:1.2.840.10008.5.1.4.1.1.2" },
                            "number": 1
                        }]
                    }]
                }));
            }
            let weight_id = format!("jp-obs-{key}-1");
            let temperature_status = if index == 3 { "amended" } else { "final" };
            let temperature_id = format!("jp-obs-{key}-2");
            let vital_signs = json!([{ "coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                "code": "vital-signs", "display": "Vital Signs"
            }] }]);
            resources.push(json!({
                "resourceType": "Observation",
                "id": weight_id,
                "status": "final",
                "category": vital_signs,
                "code": { "coding": [{ "system": LOINC, "code": "29463-7", "display": "Body weight" }], "text": "体重" },
                "subject": subject,
                "effectiveDateTime": day(10, "09:30:00"),
                "valueQuantity": { "value": weight, "unit": "kg", "system": UCUM, "code": "kg" }
            }));
            resources.push(json!({
                "resourceType": "Observation",
                "id": temperature_id,
                "status": temperature_status,
                "category": vital_signs,
                "code": { "coding": [{ "system": LOINC, "code": "8310-5", "display": "Body temperature" }], "text": "体温" },
                "subject": subject,
                "effectivePeriod": { "start": day(10, "09:00:00"), "end": day(10, "09:05:00") },
                "valueQuantity": { "value": temperature, "unit": "℃", "system": UCUM, "code": "Cel" }
            }));
            if index < 2 {
                let (systolic, diastolic) = [(150.0, 95.0), (118.0, 76.0)][index];
                let part = |code: &str, value: f64| {
                    json!({
                        "code": { "coding": [{ "system": LOINC, "code": code }] },
                        "valueQuantity": { "value": value, "unit": "mmHg", "system": UCUM, "code": "mm[Hg]" }
                    })
                };
                resources.push(json!({
                    "resourceType": "Observation",
                    "id": format!("jp-obs-{key}-bp"),
                    "status": "final",
                    "category": vital_signs,
                    "code": { "coding": [{ "system": LOINC, "code": "85354-9" }], "text": "血圧" },
                    "subject": subject,
                    "effectiveDateTime": day(10, "09:40:00"),
                    "component": [part("8480-6", systolic), part("8462-4", diastolic)]
                }));
            }
            resources.push(json!({
                "resourceType": "DiagnosticReport",
                "id": format!("jp-dr-{key}-1"),
                "identifier": [{ "system": "urn:oid:1.2.392.100495.20.3.41.11318814790", "value": format!("RPT-{number}") }],
                "basedOn": [reference("ServiceRequest", &format!("jp-sr-{key}-1"))],
                "status": "final",
                "category": [{ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "RAD" }] }],
                "code": { "coding": [{ "system": LOINC, "code": "24627-2", "display": "CT Chest" }], "text": "胸部CT 読影レポート" },
                "subject": subject,
                "effectiveDateTime": day(11, "10:00:00"),
                "issued": day(11, "15:00:00.000"),
                "imagingStudy": [reference("ImagingStudy", &format!("jp-is-{key}-1"))],
                "result": [reference("Observation", &weight_id), reference("Observation", &temperature_id)],
                "conclusion": "異常なし"
            }));
        }
        let tanaka = reference("Patient", "jp-tanaka-yui");
        resources.push(json!({
            "resourceType": "ServiceRequest",
            "id": "jp-sr-local-code",
            "status": "active",
            "intent": "order",
            "code": { "coding": [{ "code": "LOCAL-CT01", "display": "院内CT 胸部" }] },
            "subject": tanaka
        }));
        resources.push(json!({
            "resourceType": "ServiceRequest",
            "id": "jp-sr-local-code-system",
            "status": "draft",
            "intent": "order",
            "code": { "coding": [{ "system": "urn:oid:1.2.392.200119.4.504.11318814790", "code": "LOCAL-CT01" }] },
            "subject": tanaka
        }));
        resources.push(json!({
            "resourceType": "ServiceRequest",
            "id": "jp-sr-foreign",
            "status": "completed",
            "intent": "order",
            "code": { "coding": [{ "system": LOINC, "code": "24627-2", "display": "CT Chest" }] },
            "subject": { "reference": "https://other.example.jp/fhir/Patient/jp-yamada-taro" }
        }));
        resources.push(json!({
            "resourceType": "DiagnosticReport",
            "id": "jp-dr-logical",
            "status": "preliminary",
            "code": { "coding": [{ "system": LOINC, "code": "24627-2", "display": "CT Chest" }] },
            "subject": {
                "identifier": { "system": PATIENT_ID_SYSTEM, "value": "00000099" },
                "display": "山田 三郎"
            }
        }));
        resources
    }
}
