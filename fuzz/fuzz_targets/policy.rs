//! cargo-afl target: `portcullis::fuzzing::policy` on whatever bytes AFL++ makes.
fn main() {
    afl::fuzz!(|data: &[u8]| portcullis::fuzzing::policy(data));
}
