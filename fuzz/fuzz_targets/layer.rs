//! cargo-afl target: `portcullis::fuzzing::layer` on whatever bytes AFL++ makes.
fn main() {
    afl::fuzz!(|data: &[u8]| portcullis::fuzzing::layer(data));
}
