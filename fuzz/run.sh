#!/usr/bin/env bash
# Fuzzes each target with AFL++ through cargo-afl (stable Rust) for a bounded time, and says
# what it found. Not part of tests/run.sh: a run is minutes, not seconds.
#
#   fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]     (default: 60 seconds; every target)
#
# Targets: dockerfile, policy, reference, manifest, signature, layer (entry points in
# src/fuzzing.rs). Seeds are fuzz/seeds/<target>/, plus for `dockerfile` the shared corpus when
# it is there (read in place, never copied into the project). Findings land in
# fuzz/out/<target>/default/crashes/; each one becomes a regression test beside the code it
# broke, then the fix.
set -euo pipefail
cd "$(dirname "$0")"

seconds="${1:-60}"
shift || true
targets=("$@")
[ "${#targets[@]}" -gt 0 ] || targets=(dockerfile policy reference manifest signature layer)

command -v cargo-afl >/dev/null 2>&1 || cargo install cargo-afl --locked
# The first use builds AFL++ itself.
cargo afl config --build >/dev/null 2>&1 || true
cargo afl build --release
# afl-fuzz itself, as cargo-afl installed it (`cargo afl fuzz` would add a CMPLOG instance).
afl_fuzz=$(find "${XDG_DATA_HOME:-$HOME/.local/share}/afl.rs" -name afl-fuzz -type f 2>/dev/null | sort | tail -1)
[ -x "$afl_fuzz" ] || { echo "afl-fuzz not found; run: cargo afl config --build" >&2; exit 2; }

found=0
for target in "${targets[@]}"; do
    seeds="out/seeds-$target"
    rm -rf "$seeds"
    mkdir -p "$seeds"
    cp "seeds/$target/"* "$seeds/"
    corpus="${PORTCULLIS_CORPUS:-../../shared/corpus}"
    if [ "$target" = dockerfile ] && [ -d "$corpus" ]; then
        # A sample of real files, small ones (AFL++ wants seeds under 1 MB, better 10 KB).
        mapfile -t real < <(find "$corpus" -type f -size -4k ! -name '*.tsv' | sort)
        for f in "${real[@]:0:200}"; do
            ln -s "$(realpath "$f")" "$seeds/corpus-$(basename "$f")"
        done
    fi
    echo "==> $target: ${seconds}s"
    AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
        "$afl_fuzz" -V "$seconds" -i "$seeds" -o "out/$target" "target/release/$target" \
        >"out/$target.log" 2>&1 || { echo "afl-fuzz failed for $target; see fuzz/out/$target.log"; found=1; continue; }
    crashes=$(find "out/$target/default/crashes" -type f ! -name README.txt 2>/dev/null | wc -l)
    hangs=$(find "out/$target/default/hangs" -type f 2>/dev/null | wc -l)
    execs=$(sed -n 's/^execs_done *: //p' "out/$target/default/fuzzer_stats" 2>/dev/null || echo "?")
    echo "    $execs executions, $crashes crashes, $hangs hangs"
    if [ "$crashes" -gt 0 ] || [ "$hangs" -gt 0 ]; then
        found=1
        echo "    inputs: fuzz/out/$target/default/{crashes,hangs}/"
    fi
done
exit "$found"
