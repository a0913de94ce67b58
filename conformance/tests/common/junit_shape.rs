//! Helpers that read a JUnit report back with a real XML parser and check its counts agree.

use quick_xml::events::Event;
use quick_xml::Reader;
use std::collections::HashMap;

/// Totals read from a JUnit document.
#[derive(Debug, Default, PartialEq)]
pub struct JUnitShape {
    /// `testsuites` attributes.
    pub root: HashMap<String, String>,
    /// Number of `testsuite` elements.
    pub suites: usize,
    /// Sums of the `testsuite` count attributes: tests, failures, errors, skipped.
    pub suite_sums: [usize; 4],
    /// `testcase` elements, and those with a `failure`, `error`, `skipped` child.
    pub cases: usize,
    pub failure_children: usize,
    pub error_children: usize,
    pub skipped_children: usize,
}

/// Parses `xml` (panicking on malformed XML) and gathers its shape.
pub fn read(xml: &str) -> JUnitShape {
    let mut reader = Reader::from_str(xml);
    let mut shape = JUnitShape::default();
    let mut stack: Vec<String> = Vec::new();
    let mut buffer = Vec::new();
    loop {
        let event = reader
            .read_event_into(&mut buffer)
            .expect("well-formed JUnit XML");
        let (element, empty) = match &event {
            Event::Start(element) => (Some(element.clone()), false),
            Event::Empty(element) => (Some(element.clone()), true),
            Event::End(_) => {
                stack.pop();
                (None, false)
            }
            Event::Eof => break,
            _ => (None, false),
        };
        if let Some(element) = element {
            let name = String::from_utf8_lossy(element.name().as_ref()).into_owned();
            let attributes: HashMap<String, String> = element
                .attributes()
                .map(|attribute| {
                    let attribute = attribute.expect("attribute");
                    (
                        String::from_utf8_lossy(attribute.key.as_ref()).into_owned(),
                        attribute
                            .unescape_value()
                            .expect("attribute value")
                            .into_owned(),
                    )
                })
                .collect();
            let parent = stack.last().map(String::as_str);
            match name.as_str() {
                "testsuites" => {
                    assert_eq!(parent, None, "testsuites is the root");
                    shape.root = attributes;
                }
                "testsuite" => {
                    assert_eq!(parent, Some("testsuites"));
                    shape.suites += 1;
                    for (slot, key) in ["tests", "failures", "errors", "skipped"]
                        .iter()
                        .enumerate()
                    {
                        shape.suite_sums[slot] += attributes[*key].parse::<usize>().expect("count");
                    }
                }
                "testcase" => {
                    assert_eq!(parent, Some("testsuite"));
                    assert!(
                        attributes.contains_key("name") && attributes.contains_key("classname")
                    );
                    shape.cases += 1;
                }
                "failure" | "error" | "skipped" => {
                    assert_eq!(parent, Some("testcase"), "{name} inside a testcase");
                    match name.as_str() {
                        "failure" => shape.failure_children += 1,
                        "error" => shape.error_children += 1,
                        _ => shape.skipped_children += 1,
                    }
                }
                _ => {}
            }
            if !empty {
                stack.push(name);
            }
        }
        buffer.clear();
    }
    shape
}

impl JUnitShape {
    /// A root count attribute as a number.
    pub fn total(&self, key: &str) -> usize {
        self.root[key].parse().expect("count")
    }

    /// Root totals = sums over suites = the elements present.
    pub fn assert_consistent(&self) {
        let root = [
            self.total("tests"),
            self.total("failures"),
            self.total("errors"),
            self.total("skipped"),
        ];
        assert_eq!(
            root, self.suite_sums,
            "testsuites counts are the sums of testsuite counts"
        );
        assert_eq!(
            self.total("tests"),
            self.cases,
            "one testcase per counted test"
        );
        assert_eq!(self.total("failures"), self.failure_children);
        assert_eq!(self.total("errors"), self.error_children);
        assert_eq!(self.total("skipped"), self.skipped_children);
    }
}
