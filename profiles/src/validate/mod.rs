//! Profile validation.
pub(crate) mod positions;
pub(crate) mod xhtml;
