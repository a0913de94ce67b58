//! What one TestScript run knows at a given moment: its fixtures (static and captured), the
//! last request and response, and which server resource each fixture became.

use std::collections::HashMap;

use serde_json::Value;

use crate::error::ConformanceError;
use crate::fixtures::Fixture;
use crate::script::TestScript;
use crate::variables;

/// A resource on the server: type, id and (when known) version.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerId {
    /// Resource type.
    pub res_type: String,
    /// Logical id.
    pub id: String,
    /// `meta.versionId` / the ETag's version.
    pub version: Option<String>,
}

/// The state of one TestScript run.
pub struct State<'s> {
    /// The script being run.
    pub script: &'s TestScript,
    /// The server's base URL, without a trailing `/`.
    pub base: String,
    /// Fixtures by id: static ones plus requests/responses kept by `requestId`/`responseId`.
    pub fixtures: HashMap<String, Fixture>,
    /// Variable values given on the command line.
    pub overrides: &'s HashMap<String, String>,
    /// The last request sent.
    pub last_request: Option<Fixture>,
    /// The last response received.
    pub last_response: Option<Fixture>,
    /// The server resource each fixture was written as (by create/update with `sourceId`).
    pub server_ids: HashMap<String, ServerId>,
}

impl<'s> State<'s> {
    /// `${name}` replaced by variable values.
    pub fn substitute(&self, text: &str) -> Result<String, ConformanceError> {
        variables::substitute(text, &|name| self.variable(name))
    }

    /// The value of variable `name`.
    pub fn variable(&self, name: &str) -> Result<String, ConformanceError> {
        if let Some(definition) = self
            .script
            .variables
            .iter()
            .find(|definition| definition.name == name)
        {
            return variables::resolve(definition, &self.fixtures, self.overrides);
        }
        self.overrides
            .get(name)
            .cloned()
            .ok_or_else(|| ConformanceError::Variable {
                name: name.to_owned(),
                message: "not defined by the TestScript".to_owned(),
            })
    }

    /// Where fixture `id` lives on the server: recorded by an earlier write, else its own
    /// `resourceType`/`id`, else a response fixture's `Location` header.
    pub fn target(&self, id: &str) -> Option<ServerId> {
        if let Some(found) = self.server_ids.get(id) {
            return Some(found.clone());
        }
        let fixture = self.fixtures.get(id)?;
        if let Some(found) = fixture.resource.as_ref().and_then(resource_server_id) {
            return Some(found);
        }
        fixture
            .header("location")
            .or_else(|| fixture.header("content-location"))
            .and_then(parse_location)
    }
}

/// `resourceType`, `id` and `meta.versionId` of a resource, when it has an id.
pub fn resource_server_id(resource: &Value) -> Option<ServerId> {
    Some(ServerId {
        res_type: resource.get("resourceType")?.as_str()?.to_owned(),
        id: resource.get("id")?.as_str()?.to_owned(),
        version: resource
            .pointer("/meta/versionId")
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}

/// `[base]/Type/id[/_history/v]` (absolute or relative) → its parts.
pub fn parse_location(location: &str) -> Option<ServerId> {
    let path = location.split(['?', '#']).next()?;
    let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let (type_at, version) = match parts.as_slice() {
        [.., _, _, "_history", version] => (parts.len() - 4, Some((*version).to_owned())),
        _ if parts.len() >= 2 => (parts.len() - 2, None),
        _ => return None,
    };
    let res_type = parts[type_at];
    if !tsunagi_profiles::is_resource_type(res_type) {
        return None;
    }
    Some(ServerId {
        res_type: res_type.to_owned(),
        id: parts[type_at + 1].to_owned(),
        version,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_give_type_id_and_version() {
        assert_eq!(
            parse_location("http://h/fhir/Patient/abc/_history/3"),
            Some(ServerId {
                res_type: "Patient".to_owned(),
                id: "abc".to_owned(),
                version: Some("3".to_owned())
            })
        );
        assert_eq!(
            parse_location("Observation/o1").map(|found| found.id),
            Some("o1".to_owned())
        );
        assert_eq!(parse_location("http://h/fhir/NotAType/x"), None);
    }
}
