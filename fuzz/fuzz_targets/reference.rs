//! cargo-afl target: `portcullis::fuzzing::reference` on whatever bytes AFL++ makes.
fn main() {
    afl::fuzz!(|data: &[u8]| portcullis::fuzzing::reference(data));
}
