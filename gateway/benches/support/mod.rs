//! Code shared by the benchmarks.
#![allow(dead_code)]

pub mod imaging_bundle;
pub mod temp_dir;
