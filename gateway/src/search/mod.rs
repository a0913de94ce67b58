//! FHIR search, HTTP-free: [`parse`] turns a query string into a [`parse::SearchRequest`]
//! checked against the SearchParameter definitions, [`run`] evaluates it through the store's
//! indexes and builds the `searchset` Bundle, [`subset`] cuts resources to `_summary`/`_elements`. The indexes are written with every version
//! (`tsunagi_profiles::search::extract_index`), so a search sees exactly what was committed.

pub mod parse;
pub mod run;
pub mod subset;
pub mod terminology;

pub use parse::{parse_search, SearchRequest};
pub use run::{find_all, run_search, PageRequest, PagedSearch, SearchPages, SearchSource};
pub use subset::Subset;
