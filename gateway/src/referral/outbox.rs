//! The outbox: each package waiting to go out is a `Task` in the store (code
//! `referral-delivery`, `focus` = the stored package Bundle), so delivery state survives
//! restarts, is shared by every replica, and is queryable like any resource
//! (`GET [base]/Task?code=…|referral-delivery&status=requested`).
//!
//! States: `requested` (waiting; due at the next-attempt extension), `in-progress` (claimed by
//! one gateway until its lease, the same extension, runs out), `completed` (delivered; the
//! receiver's answer in `output`), `failed` (refused by the receiver, or out of attempts).
//! A claim is an update under `If-Match`, so two replicas never send one package at once.

use crate::clock::Instant;
use crate::fhir::bundle::body_value;
use crate::fhir::entry::{EntryRequest, Method, PreferReturn, Target};
use crate::search::{find_all, parse_search};
use crate::{Gateway, GatewayError};
use serde_json::{json, Value};
use tsunagi_profiles::Resource;
use uuid::Uuid;

/// Code system of Tsunagi's task codes.
pub const TASK_CODE_SYSTEM: &str = "urn:tsunagi:task";
/// The code of a package delivery task.
pub const DELIVERY_CODE: &str = "referral-delivery";
/// Extension: attempts made so far (valueInteger).
const ATTEMPTS_URL: &str = "urn:tsunagi:extension:delivery-attempts";
/// Extension: when the task is next due (valueDateTime).
const DUE_URL: &str = "urn:tsunagi:extension:next-attempt";

/// Stores the signed `package` and a `requested` delivery Task for `destination` in one
/// transaction; returns the Task's id.
pub async fn enqueue(
    gateway: &Gateway,
    package: &Value,
    destination: &str,
    referral: &str,
    patient: &str,
) -> Result<String, GatewayError> {
    let package_id = package["id"].as_str().unwrap_or_default().to_owned();
    let task_id = Uuid::new_v4().to_string();
    let now = Instant::now().to_fhir();
    let task = json!({
        "resourceType": "Task",
        "id": task_id,
        "extension": [
            {"url": ATTEMPTS_URL, "valueInteger": 0},
            {"url": DUE_URL, "valueDateTime": now},
        ],
        "status": "requested",
        "intent": "order",
        "code": {"coding": [{"system": TASK_CODE_SYSTEM, "code": DELIVERY_CODE,
            "display": "referral package delivery"}]},
        "focus": {"reference": format!("Bundle/{package_id}")},
        "for": {"reference": patient},
        "basedOn": [{"reference": referral}],
        "authoredOn": now,
        "lastModified": now,
        "input": [{"type": {"text": "destination"}, "valueString": destination}],
    });
    let transaction = json!({"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": format!("Bundle/{package_id}"), "resource": package,
            "request": {"method": "PUT", "url": format!("Bundle/{package_id}")}},
        {"fullUrl": format!("Task/{task_id}"), "resource": task,
            "request": {"method": "PUT", "url": format!("Task/{task_id}")}},
    ]});
    let transaction = Resource::from_value(transaction).map_err(|error| {
        GatewayError::Unprocessable(format!("the package cannot be stored: {error}"))
    })?;
    gateway
        .process_bundle(transaction, PreferReturn::Minimal)
        .await?;
    Ok(task_id)
}

/// A delivery task as read from the store.
#[derive(Debug, Clone)]
pub struct DeliveryTask {
    /// The Task JSON.
    pub task: Value,
    /// Its version (the `If-Match` of the next update).
    pub version: u64,
}

impl DeliveryTask {
    /// The Task's id.
    pub fn id(&self) -> &str {
        self.task["id"].as_str().unwrap_or_default()
    }

    /// The destination name it goes to.
    pub fn destination(&self) -> Option<&str> {
        self.task["input"]
            .as_array()?
            .iter()
            .find(|input| {
                input.pointer("/type/text").and_then(Value::as_str) == Some("destination")
            })?
            .get("valueString")?
            .as_str()
    }

    /// The stored package's id (`focus`).
    pub fn package_id(&self) -> Option<&str> {
        self.task
            .pointer("/focus/reference")
            .and_then(Value::as_str)?
            .strip_prefix("Bundle/")
    }

    /// Attempts made so far.
    pub fn attempts(&self) -> u32 {
        extension(&self.task, ATTEMPTS_URL)
            .and_then(|value| value.get("valueInteger"))
            .and_then(Value::as_u64)
            .map_or(0, |attempts| attempts.min(u64::from(u32::MAX)) as u32)
    }

    /// When it is next due (none: now).
    pub fn due(&self) -> Option<Instant> {
        extension(&self.task, DUE_URL)
            .and_then(|value| value.get("valueDateTime"))
            .and_then(Value::as_str)
            .and_then(Instant::parse_fhir)
    }
}

/// Tasks waiting or whose claim ran out, due at `now`, oldest first (at most `limit`).
pub async fn due_tasks(
    gateway: &Gateway,
    now: Instant,
    limit: usize,
) -> Result<Vec<DeliveryTask>, GatewayError> {
    let params = [
        (
            "code".to_owned(),
            format!("{TASK_CODE_SYSTEM}|{DELIVERY_CODE}"),
        ),
        ("status".to_owned(), "requested,in-progress".to_owned()),
    ];
    let request = parse_search(gateway.definitions(), "Task", &params, false)?;
    let ids = find_all(gateway.store(), "Task", &request).await?;
    let mut due = Vec::new();
    for id in ids {
        let Ok(stored) = gateway.read("Task", &id).await else {
            continue;
        };
        let Some(task) = body_value(&stored) else {
            continue;
        };
        let candidate = DeliveryTask {
            task,
            version: stored.version,
        };
        if candidate.due().is_none_or(|due| due <= now) {
            due.push(candidate);
        }
    }
    due.sort_by_key(|task| task.due().map_or(0, |due| due.millis));
    due.truncate(limit);
    Ok(due)
}

/// What became of one attempt.
#[derive(Debug, Clone)]
pub enum Attempt {
    /// The receiver took the package; its answer in words.
    Delivered(String),
    /// The receiver refused it for good (e.g. it does not trust the signer).
    Refused(String),
    /// It may work later (receiver down, busy, timed out).
    Failed(String),
}

/// Claims `task` for `lease_secs` (status in-progress, one more attempt); `None` when another
/// gateway changed it first.
pub async fn claim(
    gateway: &Gateway,
    task: &DeliveryTask,
    lease_secs: u64,
) -> Result<Option<DeliveryTask>, GatewayError> {
    let now = Instant::now();
    let mut claimed = task.task.clone();
    claimed["status"] = json!("in-progress");
    claimed["lastModified"] = json!(now.to_fhir());
    set_extension(
        &mut claimed,
        ATTEMPTS_URL,
        json!({"valueInteger": task.attempts() + 1}),
    );
    set_extension(
        &mut claimed,
        DUE_URL,
        json!({"valueDateTime": later(now, lease_secs)}),
    );
    update(gateway, task, claimed).await
}

/// Records what the attempt of a claimed `task` gave; a failure is retried after `retry_secs`
/// unless no attempt is left (`None`), then the task fails.
pub async fn record(
    gateway: &Gateway,
    task: &DeliveryTask,
    attempt: &Attempt,
    retry_secs: Option<u64>,
) -> Result<(), GatewayError> {
    let now = Instant::now();
    let mut next = task.task.clone();
    next["lastModified"] = json!(now.to_fhir());
    let attempts = task.attempts();
    match (attempt, retry_secs) {
        (Attempt::Delivered(answer), _) => {
            next["status"] = json!("completed");
            next["businessStatus"] = json!({"text": format!("delivered on attempt {attempts}")});
            next["output"] = json!([{"type": {"text": "receipt"}, "valueString": answer}]);
            remove_extension(&mut next, DUE_URL);
        }
        (Attempt::Refused(why), _) => {
            next["status"] = json!("failed");
            next["statusReason"] =
                json!({"text": format!("the receiver refused the package: {why}")});
            remove_extension(&mut next, DUE_URL);
        }
        (Attempt::Failed(why), None) => {
            next["status"] = json!("failed");
            next["statusReason"] =
                json!({"text": format!("gave up after {attempts} attempts; last: {why}")});
            remove_extension(&mut next, DUE_URL);
        }
        (Attempt::Failed(why), Some(wait)) => {
            next["status"] = json!("requested");
            next["businessStatus"] = json!({"text": format!("attempt {attempts} failed: {why}")});
            set_extension(
                &mut next,
                DUE_URL,
                json!({"valueDateTime": later(now, wait)}),
            );
        }
    }
    update(gateway, task, next).await.map(|_| ())
}

/// Writes `next` over `task` under `If-Match`; `None` when the version moved on.
async fn update(
    gateway: &Gateway,
    task: &DeliveryTask,
    next: Value,
) -> Result<Option<DeliveryTask>, GatewayError> {
    let id = task.id().to_owned();
    let mut request = EntryRequest::new(Method::Put, Target::Instance("Task".into(), id));
    request.if_match = Some(task.version);
    request.resource = Some(Resource::from_value(next.clone()).map_err(|error| {
        GatewayError::Unprocessable(format!("the delivery task cannot be written: {error}"))
    })?);
    match gateway.interact(request).await {
        Ok(outcome) => Ok(Some(DeliveryTask {
            task: next,
            version: outcome
                .stored
                .map_or(task.version + 1, |stored| stored.version),
        })),
        Err(GatewayError::VersionConflict { .. }) => Ok(None),
        Err(error) => Err(error),
    }
}

/// `now` plus `secs`, as FHIR dateTime text.
fn later(now: Instant, secs: u64) -> String {
    let millis = i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX);
    Instant {
        millis: now.millis.saturating_add(millis),
    }
    .to_fhir()
}

fn extension<'a>(resource: &'a Value, url: &str) -> Option<&'a Value> {
    resource["extension"]
        .as_array()?
        .iter()
        .find(|extension| extension["url"] == url)
}

fn set_extension(resource: &mut Value, url: &str, value: Value) {
    remove_extension(resource, url);
    let mut extension = json!({"url": url});
    if let (Some(target), Value::Object(fields)) = (extension.as_object_mut(), value) {
        target.extend(fields);
    }
    match resource.get_mut("extension").and_then(Value::as_array_mut) {
        Some(extensions) => extensions.push(extension),
        None => resource["extension"] = json!([extension]),
    }
}

fn remove_extension(resource: &mut Value, url: &str) {
    if let Some(extensions) = resource.get_mut("extension").and_then(Value::as_array_mut) {
        extensions.retain(|extension| extension["url"] != url);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_fields_read_back() {
        let mut task = json!({"resourceType": "Task", "id": "t",
            "focus": {"reference": "Bundle/pkg"},
            "input": [{"type": {"text": "destination"}, "valueString": "hospital-b"}]});
        set_extension(&mut task, ATTEMPTS_URL, json!({"valueInteger": 3}));
        set_extension(
            &mut task,
            DUE_URL,
            json!({"valueDateTime": "2026-11-26T10:00:00.000Z"}),
        );
        set_extension(&mut task, ATTEMPTS_URL, json!({"valueInteger": 4}));
        let task = DeliveryTask { task, version: 2 };
        assert_eq!(task.attempts(), 4);
        assert_eq!(task.destination(), Some("hospital-b"));
        assert_eq!(task.package_id(), Some("pkg"));
        assert_eq!(task.due(), Instant::parse_fhir("2026-11-26T10:00:00Z"));
        assert_eq!(task.task["extension"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn later_adds_seconds() {
        let now = Instant::parse_fhir("2026-11-26T10:00:00Z").unwrap();
        assert_eq!(later(now, 90), "2026-11-26T10:01:30.000Z");
        assert!(!later(now, u64::MAX).is_empty());
    }
}
