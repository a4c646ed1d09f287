//! Feeds arbitrary input to the SCIM filter and PATCH path parsers: they must return `Ok` or
//! an error of the right kind, never panic, overflow the stack or hang.
//!
//! Run from `scim/`: `cargo fuzz run filter` (nightly), or on stable
//! `RUSTC_BOOTSTRAP=1 cargo fuzz run filter -- -max_total_time=60`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use scim::ScimType;
use scim::filter::{parse_filter, parse_patch_path};

fuzz_target!(|data: &[u8]| {
    // Valid UTF-8 as is; anything else lossily, so every input exercises the parsers.
    let input = String::from_utf8_lossy(data);
    if let Err(error) = parse_filter(&input) {
        assert_eq!(error.scim_type, Some(ScimType::InvalidFilter));
    }
    if let Err(error) = parse_patch_path(&input) {
        assert_eq!(error.scim_type, Some(ScimType::InvalidPath));
    }
});
