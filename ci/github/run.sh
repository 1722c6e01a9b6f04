#!/usr/bin/env bash
# Runs the gate for the GitHub Action (action.yml) in one `portcullis check`, which writes
# every report at once: the log in INPUT_FORMAT, SARIF for code scanning (written whenever
# the gate ran, passed or failed), JSON for scripts, annotations for the diff and Markdown
# for the job summary. Exits with portcullis's exit code, after writing the outputs.
# In a pull request the policy and any --baseline are read from the target branch
# (ci/trusted-policy.sh), unless INPUT_POLICY_FROM_BASE is false; INPUT_POLICY_REF reads
# them from that ref in every event.
#
# Environment: PORTCULLIS (the binary; default `portcullis`), INPUT_TARGETS, INPUT_POLICY,
# INPUT_POLICY_FROM_BASE, INPUT_POLICY_REF, INPUT_FAIL_ON, INPUT_FORMAT, INPUT_SARIF_FILE,
# INPUT_ANNOTATIONS, INPUT_SUMMARY, INPUT_ARGS, INPUT_INSTALL_ONLY; GITHUB_EVENT_NAME,
# GITHUB_BASE_REF, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, RUNNER_TEMP.
# Targets and extra arguments are split on whitespace (no quoting, no globbing).
set -euo pipefail

if [ "${INPUT_INSTALL_ONLY:-false}" = true ]; then
    echo "install-only: portcullis is on PATH for the next steps"
    exit 0
fi

portcullis="${PORTCULLIS:-portcullis}"
format="${INPUT_FORMAT:-text}"
sarif="${INPUT_SARIF_FILE:-portcullis.sarif}"
work="$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/portcullis.XXXXXX")"
json="$work/portcullis.json"
annotations="$work/annotations.txt"
summary="$work/summary.md"

output() {
    if [ -n "${GITHUB_OUTPUT:-}" ]; then echo "$1=$2" >>"$GITHUB_OUTPUT"; fi
}

set -f # split on whitespace without expanding globs
# shellcheck disable=SC2206
targets=(${INPUT_TARGETS:-.})
# shellcheck disable=SC2206
extra=(${INPUT_ARGS:-})
set +f

mkdir -p "$(dirname "$sarif")"
rm -f "$sarif"
args=(check "${targets[@]}" --format "$format"
    --report "sarif=$sarif" --report "json=$json" --report "markdown=$summary")
if [ "${INPUT_ANNOTATIONS:-true}" = true ] && [ "$format" != github ]; then
    args+=(--report "github=$annotations")
fi
if [ -n "${INPUT_POLICY:-}" ]; then args+=(--policy "$INPUT_POLICY"); fi
if [ -n "${INPUT_FAIL_ON:-}" ]; then args+=(--fail-on "$INPUT_FAIL_ON"); fi
args+=(${extra[@]+"${extra[@]}"}) # bash 3.2 (macOS) calls an empty array unset

# The policy and baseline of a pull request come from its target branch: the shared script
# rewrites the positional parameters, set from args.
trust_request=false
case "${GITHUB_EVENT_NAME:-}" in
    pull_request | pull_request_target) trust_request=true ;;
esac
trust_request_name="pull request"
trust_base="${GITHUB_BASE_REF:-}"
trust_enabled="${INPUT_POLICY_FROM_BASE:-true}"
trust_ref="${INPUT_POLICY_REF:-}"
trust_ref_name=policy-ref
trust_off_name="policy-from-base: false"
trust_style=github
trust_work="$work/trusted"
mkdir -p "$trust_work"
set -- "${args[@]}"
# shellcheck source-path=SCRIPTDIR source=../trusted-policy.sh
. "$(dirname "${BASH_SOURCE[0]}")/../trusted-policy.sh"
args=("$@")

if [ -n "$trust_error" ]; then
    code=2 # the trusted policy could not be read: fail closed, never the checkout's
else
    echo "::group::portcullis ${args[*]}"
    set +e
    "$portcullis" "${args[@]}"
    code=$?
    set -e
    echo "::endgroup::"
fi

# Workflow commands are read from standard output: this puts the findings on the diff.
if [ -f "$annotations" ]; then cat "$annotations"; fi

# Findings in the JSON report: one `"fingerprint"` key per finding, at a fixed indentation.
findings=0
if [ -f "$json" ]; then
    findings="$(grep -cE '^ {6}"fingerprint": ' "$json" || true)"
fi

if [ "${INPUT_SUMMARY:-true}" = true ] && [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    if [ -f "$summary" ]; then
        if [ "$code" = 3 ]; then
            # The report may show no failing finding: say why the gate failed anyway.
            printf '**portcullis could not evaluate everything the policy requires (exit code 3), so the gate failed closed; the step log says what.**\n\n' \
                >>"$GITHUB_STEP_SUMMARY"
        fi
        cat "$summary" >>"$GITHUB_STEP_SUMMARY"
    else
        printf '### portcullis: could not run\n\nExit code %s: a usage or configuration error; the step log says what was wrong.\n' \
            "$code" >>"$GITHUB_STEP_SUMMARY"
    fi
fi

output exit-code "$code"
output findings "$findings"
if [ -f "$json" ]; then output json-file "$json"; fi
if [ -f "$sarif" ]; then
    output sarif-file "$(cd "$(dirname "$sarif")" && pwd)/$(basename "$sarif")"
elif [ "$code" = 2 ]; then
    echo "::error title=portcullis::portcullis could not run (exit code 2: usage or configuration error); no SARIF was written"
fi
exit "$code"
