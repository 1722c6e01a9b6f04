//! cargo-afl target: `portcullis::fuzzing::signature` on whatever bytes AFL++ makes.
fn main() {
    afl::fuzz!(|data: &[u8]| portcullis::fuzzing::signature(data));
}
