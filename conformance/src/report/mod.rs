//! Reports of a run: JUnit XML for CI systems and Markdown for people.

pub mod junit;
pub mod markdown;
