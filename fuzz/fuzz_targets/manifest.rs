//! cargo-afl target: `portcullis::fuzzing::manifest` on whatever bytes AFL++ makes.
fn main() {
    afl::fuzz!(|data: &[u8]| portcullis::fuzzing::manifest(data));
}
