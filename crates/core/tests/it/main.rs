//! Integration tests of `switchyard-core`: the traits as other crates use them.

mod traits;
