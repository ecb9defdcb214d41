//! `#[headroom]` as the compiler sees it: every supported form compiles and runs, and each
//! mistake gets one clear error. The `.stderr` files are pinned to the toolchain in use; after a
//! compiler upgrade, refresh them with `TRYBUILD=overwrite` and review the diff.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/fail/*.rs");
}
