//! The per-message-family drivers: which resources a message family produces from its groups.

pub mod orders;
pub mod results;
