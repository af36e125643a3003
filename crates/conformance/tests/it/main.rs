//! Integration tests of `switchyard-conformance`: the suite run against a reference
//! transport, correct and deliberately broken, to test the suite itself.

mod faults;
mod generated;
mod reference;
mod suite;
