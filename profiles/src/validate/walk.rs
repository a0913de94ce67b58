//! The walk over a resource: each JSON property matched to its element definition, each
//! occurrence checked for shape, type, value and invariants, recursing into datatypes,
//! contained resources and Bundle entries.

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::compiled::{CompiledProfile, ElementNode};
use super::outcome::{Issue, IssueType, Severity};
use super::primitives::{check_primitive, is_primitive};
use super::{bindings, invariants, references, slicing, xhtml, ValidateOptions, Validator};
use crate::is_resource_type;

/// How deeply definitions may nest while validating one resource (datatypes within datatypes,
/// contained resources, Bundle entries).
const MAX_DEPTH: usize = 96;

/// One occurrence of an element in the JSON: the value and, for a primitive, its `_name`
/// sibling (id and extensions).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Occurrence<'v> {
    /// The JSON value; absent for a primitive that only has extensions.
    pub value: Option<&'v Value>,
    /// A primitive's `_name` object.
    pub extras: Option<&'v Value>,
}

/// Where an extension is used, for its context rules.
#[derive(Debug, Clone)]
pub(crate) struct ExtensionSite<'v> {
    /// The element holding the extension.
    pub holder: &'v Map<String, Value>,
    /// The path of the element holding the extension in the instance, without indexes
    /// (`Patient.address`).
    pub path: String,
    /// The same element's path in definition terms (`Address.line`).
    pub element_path: String,
    /// That element's type (`Address`, `Patient`, `Extension`).
    pub type_code: String,
    /// When it sits in another extension, that extension's URL.
    pub parent_url: Option<String>,
}

/// The element whose properties are being checked, as extension context rules see it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Holder<'s> {
    /// Its FHIR type (`Address`, `Patient`, `string`, `Extension`).
    pub type_code: &'s str,
    /// Its path in definition terms (`Address.line`, `Patient.address`).
    pub element_path: &'s str,
    /// When it is an extension, its URL.
    pub extension_url: Option<&'s str>,
}

/// The state of one validation.
pub(crate) struct Walk<'a, 'v> {
    pub(crate) validator: &'a Validator,
    pub(crate) options: &'a ValidateOptions,
    /// The resource validated (a Bundle when entries are being walked).
    pub(crate) root: &'v Value,
    /// The resources enclosing the current element, innermost last, and whether each is
    /// contained in the one before.
    pub(crate) resources: Vec<(&'v Value, bool)>,
    issues: Vec<Issue>,
    depth: usize,
    /// The URLs of the extensions enclosing the current element, innermost last.
    extensions: Vec<String>,
}

impl<'a, 'v> Walk<'a, 'v> {
    pub(crate) fn new(
        validator: &'a Validator,
        root: &'v Value,
        options: &'a ValidateOptions,
    ) -> Walk<'a, 'v> {
        Walk {
            validator,
            options,
            root,
            resources: Vec::new(),
            issues: Vec::new(),
            depth: 0,
            extensions: Vec::new(),
        }
    }

    /// The issues, each reported once, in the order first found.
    pub(crate) fn finish(self) -> Vec<Issue> {
        let mut seen = HashSet::new();
        self.issues
            .into_iter()
            .filter(|issue| {
                seen.insert((
                    issue.severity,
                    issue.expression.clone(),
                    issue.message.clone(),
                ))
            })
            .collect()
    }

    /// Records an issue.
    pub(crate) fn report(
        &mut self,
        severity: Severity,
        kind: IssueType,
        expression: &str,
        message: impl Into<String>,
    ) {
        self.issues.push(Issue {
            severity,
            kind,
            expression: expression.to_owned(),
            message: message.into(),
            position: None,
            source: None,
        });
    }

    /// Records an error.
    pub(crate) fn error(&mut self, kind: IssueType, expression: &str, message: impl Into<String>) {
        self.report(Severity::Error, kind, expression, message);
    }

    /// The issues found so far (for trial validations).
    pub(crate) fn issue_count(&self) -> usize {
        self.issues.len()
    }

    /// Drops the issues found after `count` and tells whether any of them was an error.
    pub(crate) fn rollback(&mut self, count: usize) -> bool {
        let errors = self.issues[count..]
            .iter()
            .any(|issue| issue.severity <= Severity::Error);
        self.issues.truncate(count);
        errors
    }

    /// The innermost enclosing resource.
    pub(crate) fn current_resource(&self) -> &'v Value {
        self.resources
            .last()
            .map_or(self.root, |(resource, _)| resource)
    }

    /// The resource `%rootResource` names: the container of a contained resource, else the
    /// resource itself.
    pub(crate) fn root_resource(&self) -> &'v Value {
        for (at, (resource, contained)) in self.resources.iter().enumerate().rev() {
            if !contained {
                return resource;
            }
            if at == 0 {
                return resource;
            }
        }
        self.root
    }

    /// Validates the top-level resource against its type, `meta.profile` and `profiles`.
    pub(crate) fn top_level(&mut self, resource: &'v Value, profiles: &[String]) {
        let path = resource
            .get("resourceType")
            .and_then(Value::as_str)
            .unwrap_or("Resource")
            .to_owned();
        self.resource(resource, &path, profiles, false);
    }

    /// Validates a resource (top level, contained or in a Bundle entry).
    pub(crate) fn resource(
        &mut self,
        resource: &'v Value,
        path: &str,
        profiles: &[String],
        contained: bool,
    ) {
        let Some(object) = resource.as_object() else {
            self.error(
                IssueType::Structure,
                path,
                "a resource must be a JSON object",
            );
            return;
        };
        let Some(res_type) = object.get("resourceType").and_then(Value::as_str) else {
            self.error(
                IssueType::Required,
                path,
                "the resource has no resourceType",
            );
            return;
        };
        if !is_resource_type(res_type) {
            self.error(
                IssueType::Structure,
                path,
                format!("'{res_type}' is not a FHIR R4 resource type"),
            );
            return;
        }
        let Some(base) = self.validator.type_profile(res_type) else {
            self.error(
                IssueType::NotFound,
                path,
                format!("no definition of {res_type} is available"),
            );
            return;
        };
        if self.depth >= MAX_DEPTH {
            self.error(IssueType::Structure, path, "resources nest too deeply");
            return;
        }
        self.depth += 1;
        self.resources.push((resource, contained));
        self.against(&base, resource, path);
        let claimed = object
            .get("meta")
            .and_then(|meta| meta.get("profile"))
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        let validator = self.validator;
        let global = validator.registry.global_profiles(res_type);
        for canonical in claimed.iter().chain(profiles).chain(global.iter()) {
            match self.validator.profile(canonical) {
                Some(profile) if profile.type_name == res_type => {
                    self.against(&profile, resource, path)
                }
                Some(profile) => self.error(
                    IssueType::Invalid,
                    path,
                    format!(
                        "the profile {canonical} is for {}, not {res_type}",
                        profile.type_name
                    ),
                ),
                None => self.report(
                    Severity::Warning,
                    IssueType::NotFound,
                    path,
                    format!("the profile {canonical} is not known here, so it was not checked"),
                ),
            }
        }
        match res_type {
            "Bundle" => references::check_bundle(self, object, path),
            "QuestionnaireResponse" => super::questionnaire::check_response(self, resource, path),
            "Questionnaire" => super::questionnaire::check_questionnaire(self, object, path),
            "SearchParameter" => super::conformance::check_search_parameter(self, object, path),
            "CapabilityStatement" => {
                super::conformance::check_capability_statement(self, object, path)
            }
            _ => {}
        }
        self.resources.pop();
        self.depth -= 1;
    }

    /// Validates a resource that must conform to one of several profiles: the issues of the
    /// first that fits are kept, or the failure is reported.
    fn resource_one_of(
        &mut self,
        resource: &'v Value,
        path: &str,
        profiles: &[String],
        contained: bool,
    ) {
        let fits = self.first_fitting(profiles.len(), |walk, at| {
            walk.resource(
                resource,
                path,
                std::slice::from_ref(&profiles[at]),
                contained,
            );
        });
        if fits {
            return;
        }
        self.resource(resource, path, &[], contained);
        self.error(
            IssueType::Structure,
            path,
            format!(
                "Unable to find a match for the specified profile among choices: {}",
                profiles.join(", ")
            ),
        );
    }

    /// Tries `count` alternatives in order: the issues of the first without an error are kept
    /// (true); when none fits, all their issues are dropped (false).
    fn first_fitting(&mut self, count: usize, mut attempt: impl FnMut(&mut Self, usize)) -> bool {
        let start = self.issue_count();
        for at in 0..count {
            let before = self.issue_count();
            attempt(self, at);
            let failed = self.issues[before..]
                .iter()
                .any(|issue| issue.severity <= Severity::Error);
            if !failed {
                let kept: Vec<Issue> = self.issues.drain(before..).collect();
                self.issues.truncate(start);
                self.issues.extend(kept);
                return true;
            }
            self.issues.truncate(before);
        }
        self.issues.truncate(start);
        false
    }

    /// Validates `resource` against one profile of its type.
    pub(crate) fn against(
        &mut self,
        profile: &Arc<CompiledProfile>,
        resource: &'v Value,
        path: &str,
    ) {
        let Some(object) = resource.as_object() else {
            return;
        };
        let type_code = profile.type_name.clone();
        self.object(
            profile,
            0,
            object,
            path,
            Holder {
                type_code: &type_code,
                element_path: &type_code,
                extension_url: None,
            },
        );
        let occurrence = Occurrence {
            value: Some(resource),
            extras: None,
        };
        invariants::check(self, profile, 0, occurrence, path, &type_code);
    }

    /// Checks the properties of `object` against the children of `node`.
    pub(crate) fn object(
        &mut self,
        profile: &Arc<CompiledProfile>,
        node: usize,
        object: &'v Map<String, Value>,
        path: &str,
        holder: Holder<'_>,
    ) {
        let type_code = holder.type_code;
        let children = &profile.nodes[node].children;
        let mut found: Vec<Vec<(Occurrence<'v>, String, String)>> =
            vec![Vec::new(); children.len()];
        let at_resource_root =
            node == 0 && is_resource_type(&profile.type_name) && profile.type_name == type_code;
        for (key, value) in object {
            if key == "resourceType" && at_resource_root {
                continue;
            }
            let (name, is_extras) = match key.strip_prefix('_') {
                Some(name) => (name, true),
                None => (key.as_str(), false),
            };
            if is_extras && object.contains_key(name) {
                continue; // read with its value below
            }
            let Some((child, choice_type)) = profile.child_for_key(node, name) else {
                self.error(
                    IssueType::Structure,
                    path,
                    format!("Unrecognized property '{key}'"),
                );
                continue;
            };
            let slot = children.iter().position(|&c| c == child).unwrap_or(0);
            let child_node = &profile.nodes[child];
            let child_type = choice_type
                .map(str::to_owned)
                .or_else(|| child_node.types.first().map(|t| t.code.clone()))
                .unwrap_or_else(|| "BackboneElement".to_owned());
            // R4 declares Resource.id a string; it is an id (1-64 of [A-Za-z0-9.-]) and
            // takes no extensions.
            let child_type = if at_resource_root && name == "id" {
                if object.contains_key("_id") {
                    self.error(
                        IssueType::Structure,
                        &format!("{path}.id"),
                        "Extensions are not allowed on Resource.id",
                    );
                }
                "id".to_owned()
            } else {
                child_type
            };
            let child_path = format!("{path}.{name}");
            let (values, extras) = if is_extras {
                (None, Some(value))
            } else {
                let extras = if is_primitive(&child_type) {
                    object.get(&format!("_{name}"))
                } else {
                    None
                };
                (Some(value), extras)
            };
            self.split_occurrences(
                child_node,
                values,
                extras,
                &child_path,
                &child_type,
                &mut found[slot],
            );
        }
        for (slot, &child) in children.iter().enumerate() {
            let occurrences = std::mem::take(&mut found[slot]);
            let child_node = &profile.nodes[child];
            if occurrences.is_empty() && child_node.min == 0 && child_node.slices.is_empty() {
                continue;
            }
            let element_path = format!(
                "{path}.{}",
                child_node.choice.as_deref().unwrap_or(&child_node.name)
            );
            self.cardinality(child_node, occurrences.len(), path, &element_path);
            let site = (child_node.name == "extension" || child_node.name == "modifierExtension")
                .then(|| ExtensionSite {
                    holder: object,
                    path: strip_indexes(path),
                    element_path: holder.element_path.to_owned(),
                    type_code: type_code.to_owned(),
                    parent_url: holder
                        .extension_url
                        .map(str::to_owned)
                        .or_else(|| self.extensions.last().cloned()),
                });
            for (occurrence, occurrence_path, child_type) in &occurrences {
                self.value(
                    profile,
                    child,
                    *occurrence,
                    occurrence_path,
                    child_type,
                    site.as_ref(),
                );
            }
            if !child_node.slices.is_empty() {
                slicing::check(self, profile, child, &occurrences, &element_path);
            }
        }
    }

    /// Splits a property (and its `_name` sibling) into occurrences, checking the JSON shape.
    fn split_occurrences(
        &mut self,
        node: &ElementNode,
        values: Option<&'v Value>,
        extras: Option<&'v Value>,
        path: &str,
        type_code: &str,
        out: &mut Vec<(Occurrence<'v>, String, String)>,
    ) {
        let primitive = is_primitive(type_code);
        if extras.is_some() && !primitive {
            self.error(
                IssueType::Structure,
                path,
                format!("'_' properties are only for primitive types, not {type_code}"),
            );
        }
        let as_list = |value: Option<&'v Value>| -> Option<Vec<Option<&'v Value>>> {
            match value {
                Some(Value::Array(items)) => Some(
                    items
                        .iter()
                        .map(|item| (!item.is_null()).then_some(item))
                        .collect(),
                ),
                Some(Value::Null) | None => None,
                Some(other) => Some(vec![Some(other)]),
            }
        };
        let is_array =
            matches!(values, Some(Value::Array(_))) || matches!(extras, Some(Value::Array(_)));
        if matches!(values, Some(Value::Null)) {
            self.error(
                IssueType::Structure,
                path,
                "null is not a valid value (leave the property out)",
            );
        }
        if node.repeats_in_base && !is_array {
            self.error(
                IssueType::Structure,
                path,
                format!(
                    "The property {} must be a JSON Array, not an Object",
                    node.choice.as_deref().unwrap_or(&node.name)
                ),
            );
        } else if !node.repeats_in_base && is_array {
            self.error(
                IssueType::Structure,
                path,
                format!(
                    "The property {} must not be a JSON Array",
                    node.choice.as_deref().unwrap_or(&node.name)
                ),
            );
        }
        let values = as_list(values).unwrap_or_default();
        let extras = if primitive {
            as_list(extras).unwrap_or_default()
        } else {
            Vec::new()
        };
        if is_array && values.is_empty() && extras.is_empty() {
            self.error(
                IssueType::Invalid,
                path,
                "Array cannot be empty - the property should not be present if it has no values",
            );
        }
        let count = values.len().max(extras.len());
        for index in 0..count {
            let value = values.get(index).copied().flatten();
            let extra = extras.get(index).copied().flatten();
            let occurrence_path = if is_array {
                format!("{path}[{index}]")
            } else {
                path.to_owned()
            };
            if value.is_none() && extra.is_none() {
                self.error(
                    IssueType::Structure,
                    &occurrence_path,
                    "null is not a valid value here",
                );
                continue;
            }
            out.push((
                Occurrence {
                    value,
                    extras: extra,
                },
                occurrence_path,
                type_code.to_owned(),
            ));
        }
    }

    /// Checks the number of occurrences against `min`/`max`.
    pub(crate) fn cardinality(
        &mut self,
        node: &ElementNode,
        count: usize,
        parent_path: &str,
        element_path: &str,
    ) {
        let too_few = (count as u64) < u64::from(node.min);
        let too_many = node.max.is_some_and(|max| count as u64 > u64::from(max));
        if !too_few && !too_many {
            return;
        }
        let name = element_path
            .rsplit_once('.')
            .map_or(element_path, |(_, name)| name);
        let label = format!(
            "{}.{name}",
            node.path.rsplit_once('.').map_or("", |(parent, _)| parent)
        );
        if too_few {
            self.error(
                IssueType::Structure,
                parent_path,
                format!(
                    "{label}: minimum required = {}, but only found {count}",
                    node.min
                ),
            );
        }
        if let Some(max) = node.max {
            if count as u64 > u64::from(max) {
                self.error(
                    IssueType::Structure,
                    parent_path,
                    format!("{label}: max allowed = {max}, but found {count}"),
                );
            }
        }
    }

    /// Checks one occurrence against `node` (its type, value rules, structure, invariants).
    pub(crate) fn value(
        &mut self,
        profile: &Arc<CompiledProfile>,
        node: usize,
        occurrence: Occurrence<'v>,
        path: &str,
        type_code: &str,
        site: Option<&ExtensionSite<'v>>,
    ) {
        if self.depth >= MAX_DEPTH {
            self.error(IssueType::Structure, path, "the content nests too deeply");
            return;
        }
        self.depth += 1;
        if is_primitive(type_code) {
            self.primitive(profile, node, occurrence, path, type_code);
        } else {
            self.complex(profile, node, occurrence, path, type_code, site);
        }
        self.depth -= 1;
    }

    fn primitive(
        &mut self,
        profile: &Arc<CompiledProfile>,
        node: usize,
        occurrence: Occurrence<'v>,
        path: &str,
        type_code: &str,
    ) {
        let element = &profile.nodes[node];
        if let Some(value) = occurrence.value {
            if type_code == "xhtml" {
                match value.as_str() {
                    Some(text) => {
                        for problem in xhtml::check_narrative(text) {
                            self.error(IssueType::Value, path, problem.message);
                        }
                    }
                    None => self.error(IssueType::Value, path, "the narrative must be a string"),
                }
            } else if let Some(problem) = check_primitive(type_code, value) {
                self.error(IssueType::Value, path, problem);
            } else {
                self.primitive_rules(element, value, path);
                if let Some(text) = value.as_str() {
                    self.text_rules(type_code, text, path);
                }
                if let Some(binding) = &element.binding {
                    bindings::check(self, binding, value, type_code, path);
                }
            }
        }
        if let Some(extras) = occurrence.extras {
            match extras.as_object() {
                Some(object) => {
                    if object.contains_key("value") {
                        self.error(
                            IssueType::Structure,
                            path,
                            "Unrecognized property 'value' in the '_' object",
                        );
                    }
                    if let Some(definition) = self.validator.type_profile(type_code) {
                        self.object(
                            &definition,
                            0,
                            object,
                            path,
                            Holder {
                                type_code,
                                element_path: &element.path,
                                extension_url: None,
                            },
                        );
                    }
                    if occurrence.value.is_none() && !object.contains_key("extension") {
                        self.error(
                            IssueType::Invalid,
                            path,
                            "Primitive types must have a value or must have child extensions",
                        );
                    }
                }
                None => self.error(
                    IssueType::Structure,
                    path,
                    "a '_' property must be an object",
                ),
            }
        }
        invariants::check(self, profile, node, occurrence, path, type_code);
    }

    /// The caller's rules on text: example URLs, embedded HTML.
    fn text_rules(&mut self, type_code: &str, text: &str, path: &str) {
        if self.options.reject_example_urls
            && matches!(type_code, "uri" | "url" | "canonical")
            && is_example_url(text)
        {
            self.error(
                IssueType::Invalid,
                path,
                format!("Example URLs are not allowed in this context ({text})"),
            );
        }
        let html_checked = match type_code {
            "markdown" => self.options.no_html_in_markdown || self.options.security_checks,
            "string" => self.options.security_checks,
            _ => false,
        };
        if html_checked && looks_like_html(text) {
            self.error(
                IssueType::Invalid,
                path,
                "The text contains what looks like an embedded HTML tag, which is not allowed here",
            );
        }
    }

    /// Fixed and pattern values, length and range limits of a primitive.
    fn primitive_rules(&mut self, element: &ElementNode, value: &'v Value, path: &str) {
        for (expected, what) in [(&element.fixed, "fixed"), (&element.pattern, "pattern")] {
            if let Some(expected) = expected {
                if !primitive_equal(value, expected) {
                    self.error(
                        IssueType::Value,
                        path,
                        format!("Value is {} but is {what} to {}", value, expected),
                    );
                }
            }
        }
        if let (Some(min), Some(text)) = (element.min_length, value.as_str()) {
            if text.chars().count() < min {
                self.error(
                    IssueType::Value,
                    path,
                    format!("Value '{text}' is shorter than permitted minimum length of {min}"),
                );
            }
        }
        if let (Some(max), Some(text)) = (element.max_length, value.as_str()) {
            if text.chars().count() > max {
                self.error(
                    IssueType::Value,
                    path,
                    format!("the value is longer than the maximum length {max}"),
                );
            }
        }
        if let Some(min) = &element.min_value {
            if super::bindings::compare_values(value, min) == Some(std::cmp::Ordering::Less) {
                self.error(
                    IssueType::Value,
                    path,
                    format!("the value {value} is less than the minimum {min}"),
                );
            }
        }
        if let Some(max) = &element.max_value {
            if super::bindings::compare_values(value, max) == Some(std::cmp::Ordering::Greater) {
                self.error(
                    IssueType::Value,
                    path,
                    format!("the value {value} is greater than the maximum {max}"),
                );
            }
        }
    }

    fn complex(
        &mut self,
        profile: &Arc<CompiledProfile>,
        node: usize,
        occurrence: Occurrence<'v>,
        path: &str,
        type_code: &str,
        site: Option<&ExtensionSite<'v>>,
    ) {
        let Some(value) = occurrence.value else {
            return;
        };
        let Some(object) = value.as_object() else {
            self.error(
                IssueType::Structure,
                path,
                format!("a {type_code} must be a JSON object"),
            );
            return;
        };
        if object.is_empty() {
            self.error(IssueType::Invalid, path, "Object must have some content");
            return;
        }
        let element = &profile.nodes[node];
        if type_code == "Resource" || (is_resource_type(type_code) && type_code != "Element") {
            let contained = element.name == "contained";
            let actual = object
                .get("resourceType")
                .and_then(Value::as_str)
                .unwrap_or("");
            let allowed: Vec<&str> = element
                .types
                .iter()
                .map(|t| t.code.as_str())
                .filter(|code| *code != "Resource")
                .collect();
            if !allowed.is_empty() && !actual.is_empty() && !allowed.contains(&actual) {
                self.error(
                    IssueType::Structure,
                    path,
                    format!(
                        "The type '{actual}' is not valid here - must be {}",
                        allowed.join(" or ")
                    ),
                );
            }
            let profiles: Vec<String> = element
                .types
                .iter()
                .flat_map(|t| t.profiles.iter().cloned())
                .collect();
            if profiles.len() > 1 {
                self.resource_one_of(value, path, &profiles, contained);
            } else {
                self.resource(value, path, &profiles, contained);
            }
            return;
        }
        if let Some(fixed) = &element.fixed {
            if value != fixed {
                self.error(
                    IssueType::Value,
                    path,
                    format!("the value does not equal the fixed value {fixed}"),
                );
            }
        }
        if let Some(pattern) = &element.pattern {
            if !contains_pattern(value, pattern) {
                self.error(
                    IssueType::Value,
                    path,
                    format!("the value does not match the pattern {pattern}"),
                );
            }
        }
        if let Some(binding) = &element.binding {
            bindings::check(self, binding, value, type_code, path);
        }
        if type_code == "Reference" {
            references::check_reference(self, element, object, path);
        }
        let type_ref = element.types.iter().find(|t| t.code == type_code);
        let type_profiles: Vec<String> = type_ref.map(|t| t.profiles.clone()).unwrap_or_default();
        let extension_url = (type_code == "Extension")
            .then(|| object.get("url").and_then(Value::as_str))
            .flatten();
        let holder = Holder {
            type_code,
            element_path: &element.path,
            extension_url,
        };
        if let Some(url) = extension_url {
            self.extensions.push(url.to_owned());
        }
        if type_code == "Extension" && type_profiles.is_empty() && element.slice_name.is_none() {
            if let Some(site) = site {
                self.extension_by_url(value, object, path, site);
            }
        }
        // Structure: the profile's own children, or the type's definition.
        let expanded = !element.children.is_empty();
        if expanded {
            self.object(profile, node, object, path, holder);
        } else if let Some(reference) = element.content_reference.clone() {
            // A content reference names the element of the type's base definition, not the
            // profile's constrained version of it.
            let base = self
                .validator
                .type_profile(&profile.type_name)
                .unwrap_or_else(|| profile.clone());
            let profile = &base;
            match profile.node_by_id(&reference) {
                Some(target) => {
                    let target_type = reference.clone();
                    self.object(
                        profile,
                        target,
                        object,
                        path,
                        Holder {
                            type_code: &target_type,
                            ..holder
                        },
                    );
                    invariants::check(self, profile, target, occurrence, path, &target_type);
                }
                None => self.error(
                    IssueType::NotFound,
                    path,
                    format!("the definition {reference} is not in the profile"),
                ),
            }
        }
        if !type_profiles.is_empty() {
            self.against_type_profiles(&type_profiles, object, occurrence, path, holder);
        } else if !expanded && element.content_reference.is_none() {
            if let Some(definition) = self.validator.type_profile(type_code) {
                self.object(&definition, 0, object, path, holder);
            }
        }
        if extension_url.is_some() {
            self.extensions.pop();
        }
        if let Some(definition) = self.validator.type_profile(type_code) {
            invariants::check(self, &definition, 0, occurrence, path, type_code);
        }
        invariants::check(self, profile, node, occurrence, path, type_code);
        if type_code == "Attachment" {
            references::check_attachment(self, object, path);
        }
        if object.contains_key("value")
            && (element.min_value.is_some() || element.max_value.is_some())
        {
            self.quantity_range(element, value, path);
        }
    }

    /// A Quantity within `minValueQuantity` / `maxValueQuantity`, compared in common UCUM units.
    fn quantity_range(&mut self, element: &ElementNode, value: &Value, path: &str) {
        let Some(have) = quantity_of(value) else {
            return;
        };
        let limits = [
            (
                &element.min_value,
                std::cmp::Ordering::Less,
                "less than the minimum",
            ),
            (
                &element.max_value,
                std::cmp::Ordering::Greater,
                "greater than the maximum",
            ),
        ];
        for (limit, wrong, words) in limits {
            let Some(limit_quantity) = limit.as_ref().and_then(quantity_of) else {
                continue;
            };
            if have.compare(&limit_quantity) == Some(wrong) {
                self.error(
                    IssueType::Value,
                    path,
                    format!(
                        "The value in the instance ({} {}) is {words} ({} {})",
                        have.value, have.unit, limit_quantity.value, limit_quantity.unit
                    ),
                );
            }
        }
    }

    /// Checks a value against the profiles its type names: it must conform to one of them.
    fn against_type_profiles(
        &mut self,
        canonicals: &[String],
        object: &'v Map<String, Value>,
        occurrence: Occurrence<'v>,
        path: &str,
        holder: Holder<'_>,
    ) {
        let type_code = holder.type_code;
        let known: Vec<Arc<CompiledProfile>> = canonicals
            .iter()
            .filter_map(|canonical| self.validator.profile(canonical))
            .collect();
        if known.is_empty() {
            self.error(
                IssueType::NotFound,
                path,
                format!("Unknown profile {}", canonicals.join(", ")),
            );
            if let Some(definition) = self.validator.type_profile(type_code) {
                self.object(&definition, 0, object, path, holder);
            }
            return;
        }
        if known.len() == 1 {
            self.object(&known[0], 0, object, path, holder);
            invariants::check(self, &known[0], 0, occurrence, path, type_code);
            return;
        }
        // One of several: keep the issues of the first that fits, or report the failure.
        let fits = self.first_fitting(known.len(), |walk, at| {
            walk.object(&known[at], 0, object, path, holder);
            invariants::check(walk, &known[at], 0, occurrence, path, type_code);
        });
        if fits {
            return;
        }
        self.error(
            IssueType::Structure,
            path,
            format!(
                "Unable to find a match for the specified profile among choices: {}",
                canonicals.join(", ")
            ),
        );
    }

    /// An extension without a profile in its element: found by URL and checked against its
    /// definition and context.
    fn extension_by_url(
        &mut self,
        value: &'v Value,
        object: &'v Map<String, Value>,
        path: &str,
        site: &ExtensionSite<'v>,
    ) {
        let Some(url) = object.get("url").and_then(Value::as_str) else {
            self.error(
                IssueType::Required,
                path,
                "Extension.url is required in order to identify, use and validate the extension",
            );
            return;
        };
        if !url.contains(':') {
            // A relative URL names a part of a complex extension, which its parent's
            // definition checks; at the top it identifies nothing.
            if site.type_code != "Extension" {
                self.error(
                    IssueType::Invalid,
                    path,
                    format!("The extension URL '{url}' must be absolute"),
                );
            }
            return;
        }
        if url.contains('|') {
            self.error(
                IssueType::Invalid,
                path,
                "The extension URL must not contain a version",
            );
        }
        let Some(definition) = self.validator.profile(url) else {
            // Extensions HL7 publishes outside the core specification (the extensions
            // pack) may be used without their definition at hand, as may the reserved example
            // domains unless the caller refuses them; any other must be known.
            let lenient = is_lenient_domain(url)
                && !(self.options.reject_example_urls && is_example_url(url));
            let (severity, message) = if lenient {
                (
                    Severity::Warning,
                    format!("The extension {url} is not known here, so it was not checked"),
                )
            } else {
                (
                    Severity::Error,
                    format!("The extension {url} could not be found so is not allowed here"),
                )
            };
            self.report(severity, IssueType::Structure, path, message);
            return;
        };
        if definition.type_name != "Extension" {
            self.error(
                IssueType::Invalid,
                path,
                format!("{url} does not define an extension"),
            );
            return;
        }
        let occurrence = Occurrence {
            value: Some(value),
            extras: None,
        };
        self.object(
            &definition,
            0,
            object,
            path,
            Holder {
                type_code: "Extension",
                element_path: "Extension",
                extension_url: Some(url),
            },
        );
        invariants::check(self, &definition, 0, occurrence, path, "Extension");
        if let Some(registry_definition) = self.validator.registry.structure_definition(url) {
            if !references::extension_context_allows(self, &registry_definition, site) {
                // The contexts R4 publishes for its own extensions are known to be narrower
                // than their use in the specification itself: a warning there.
                let severity = if url.starts_with("http://hl7.org/fhir/StructureDefinition/") {
                    Severity::Warning
                } else {
                    Severity::Error
                };
                self.report(
                    severity,
                    IssueType::Structure,
                    path,
                    format!(
                        "The extension {url} is not allowed to be used at this point (based on context {})",
                        references::context_summary(&registry_definition)
                    ),
                );
            }
        }
    }
}

/// Primitive equality: strings and booleans exactly, numbers by value.
fn primitive_equal(value: &Value, expected: &Value) -> bool {
    match (value, expected) {
        (Value::Number(a), Value::Number(b)) => {
            a == b || a.as_str().parse::<f64>().ok() == b.as_str().parse::<f64>().ok()
        }
        _ => value == expected,
    }
}

/// Whether `value` holds everything `pattern` has: objects property by property, arrays item
/// by item (each pattern item matched by some value item), primitives by equality.
pub(crate) fn contains_pattern(value: &Value, pattern: &Value) -> bool {
    match (value, pattern) {
        (Value::Object(value), Value::Object(pattern)) => pattern.iter().all(|(key, wanted)| {
            value
                .get(key)
                .is_some_and(|have| contains_pattern(have, wanted))
        }),
        (Value::Array(values), Value::Array(patterns)) => patterns
            .iter()
            .all(|wanted| values.iter().any(|have| contains_pattern(have, wanted))),
        (Value::Array(values), wanted) => values.iter().any(|have| contains_pattern(have, wanted)),
        _ => primitive_equal(value, pattern),
    }
}

/// `Patient.name[0].given[1]` → `Patient.name.given`.
fn strip_indexes(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_index = false;
    for c in path.chars() {
        match c {
            '[' => in_index = true,
            ']' => in_index = false,
            _ if !in_index => out.push(c),
            _ => {}
        }
    }
    out
}

/// Extension URLs whose definitions may be absent without making the resource invalid: HL7's
/// own (published outside the core specification) and the reserved example domains.
fn is_lenient_domain(url: &str) -> bool {
    const PREFIXES: [&str; 6] = [
        "http://hl7.org/fhir/",
        "http://example.org/",
        "https://example.org/",
        "http://example.com/",
        "https://example.com/",
        "http://example.net/",
    ];
    PREFIXES.iter().any(|prefix| url.starts_with(prefix))
}

/// Whether `url` is on a reserved example domain.
pub(crate) fn is_example_url(url: &str) -> bool {
    let host = url.split_once("://").map_or("", |(_, rest)| {
        rest.split(['/', ':', '#', '?']).next().unwrap_or("")
    });
    ["example.org", "example.com", "example.net"]
        .iter()
        .any(|domain| host == *domain || host.ends_with(&format!(".{domain}")))
}

/// A JSON Quantity as a FHIRPath quantity (its UCUM code, else its unit).
fn quantity_of(value: &Value) -> Option<crate::fhirpath::Quantity> {
    let number = value.get("value")?.as_number()?;
    let amount = number.as_str().parse::<rust_decimal::Decimal>().ok()?;
    let unit = value
        .get("code")
        .or_else(|| value.get("unit"))
        .and_then(Value::as_str)
        .unwrap_or("1");
    Some(crate::fhirpath::Quantity {
        value: amount,
        unit: unit.to_owned(),
    })
}

/// Whether text holds something that reads as an HTML tag (`<b>`, `</p>`, `<script`).
fn looks_like_html(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.windows(2).any(|pair| {
        pair[0] == b'<' && (pair[1].is_ascii_alphabetic() || pair[1] == b'/' || pair[1] == b'!')
    })
}
