//! cargo-afl target: `portcullis::fuzzing::dockerfile` on whatever bytes AFL++ makes.
fn main() {
    afl::fuzz!(|data: &[u8]| portcullis::fuzzing::dockerfile(data));
}
