# shellcheck shell=sh
# The policy and the baseline must not be in the pull request author's hands: the author
# writes the Dockerfiles, so a policy or a baseline read from the pull request's checkout
# lets the change under review set its own rules (`extends: none`, an exception, its new
# findings added to the baseline). In a pull (merge) request pipeline this reads both from
# the target branch instead; with an explicit ref, from that ref in every pipeline.
#
# Shared by the GitHub Action (sourced by ci/github/run.sh) and the GitLab template (which
# holds this file verbatim, as GitLab includes only the YAML; a test keeps them equal).
# POSIX sh. Sourced at the top level with the `portcullis check` arguments as positional
# parameters, which it rewrites:
#   --policy FILE / --policy=FILE     FILE as the trusted revision has it (its `extends` too),
#                                     or the built-in default when that revision has none;
#   no --policy                       the policy that revision's checkout would discover;
#   --baseline FILE / --baseline=FILE FILE as the trusted revision has it, or no baseline.
# A FILE the repository tracks nowhere (a central policy checked out by an earlier step, a
# baseline downloaded from the main branch's last run) is used as it is. The log says which
# policy and baseline were used, and when the checkout's differ (the request changes them).
#
# The policy files are exported from the trusted revision into a temporary directory and
# read there, with `--policy-remap` so that their exception paths still name the
# checkout's Dockerfiles. A relative `extends` is read from the same revision: every
# `*.yaml` and `*.yml` file of it is exported; an `extends` of another name is not there, so
# portcullis stops with exit code 2 (fail closed).
#
# Set before sourcing (shell variables; none is ever evaluated as code):
#   trust_request   true in a pull/merge request pipeline
#   trust_request_name   what this CI system calls it: pull request, merge request
#   trust_base      its target branch (a branch name)
#   trust_base_sha  optional: a commit of the target branch to use when it cannot be fetched
#   trust_enabled   false turns reading from the target branch off (the request's own apply)
#   trust_ref       optional: read from this ref (a commit, tag or branch) in every pipeline
#   trust_ref_name, trust_off_name   how this CI system spells the ref input and the opt-out
#   trust_style     github (workflow commands: ::notice, ::error) or plain
#   trust_work      an empty directory for the exported files
# Afterwards trust_error is non-empty when the trusted files could not be read: the caller
# must then not run the gate, and fails with exit code 2.

: "${trust_request:=false}" "${trust_request_name:=pull request}" "${trust_base:=}"
: "${trust_base_sha:=}" "${trust_enabled:=true}" "${trust_ref:=}" "${trust_style:=plain}"
: "${trust_ref_name:=policy-ref}" "${trust_off_name:=policy-from-base: false}"
: "${trust_work:?the caller sets trust_work, an empty directory}"
trust_error=
trust_commit=
trust_label=
trust_tree=
trust_top=
trust_policy=
trust_policy_given=false
trust_baseline=
trust_baseline_given=false
trust_use_policy=
trust_use_baseline=
trust_rewrite=false

trust_say() {
    printf 'portcullis: %s\n' "$1"
}

# Workflow command escaping: data, and property values (which also escape `:` and `,`).
trust_escape_data() {
    printf '%s' "$1" | sed -e 's/%/%25/g' -e 's/\r/%0D/g'
}

trust_escape_property() {
    trust_escape_data "$1" | sed -e 's/:/%3A/g' -e 's/,/%2C/g'
}

# A notice about FILE (a path from the repository's top) for the request's reviewers.
trust_notice() {
    if [ "$trust_style" = github ]; then
        printf '::notice file=%s,title=portcullis::%s\n' \
            "$(trust_escape_property "$1")" "$(trust_escape_data "$2")"
    else
        printf 'portcullis: notice: %s\n' "$2"
    fi
}

trust_fail() {
    trust_error="$1"
    if [ "$trust_style" = github ]; then
        printf '::error title=portcullis::%s\n' "$(trust_escape_data "$1")"
    else
        printf 'portcullis: error: %s\n' "$1" >&2
    fi
    return 1
}

# Whether $1 can be handed to git as a ref without being read as an option or a refspec.
trust_ref_ok() {
    case "$1" in
        "" | -* | +* | *:* | *[[:space:]]*) return 1 ;;
    esac
}

# The commit the trusted files are read from, into trust_commit and trust_label.
trust_resolve() {
    if [ -n "$trust_ref" ]; then
        trust_ref_ok "$trust_ref" || {
            trust_fail "$trust_ref_name \`$trust_ref\` is not a ref git can read safely"
            return 1
        }
        trust_label="\`$trust_ref\` ($trust_ref_name)"
        if ! trust_commit="$(git rev-parse --verify --quiet "$trust_ref^{commit}")"; then
            case "$trust_ref" in
                origin/*) trust_fetch="refs/heads/${trust_ref#origin/}" ;;
                *) trust_fetch="$trust_ref" ;;
            esac
            if ! GIT_TERMINAL_PROMPT=0 git fetch --quiet --no-tags --depth=1 origin "$trust_fetch" ||
                ! trust_commit="$(git rev-parse --verify --quiet 'FETCH_HEAD^{commit}')"; then
                trust_fail "cannot read $trust_ref_name \`$trust_ref\`: it is not in this clone and \`git fetch origin $trust_fetch\` failed"
                return 1
            fi
        fi
        return 0
    fi
    trust_ref_ok "$trust_base" || {
        trust_fail "this $trust_request_name pipeline names no usable target branch (\`$trust_base\`)"
        return 1
    }
    trust_label="the target branch \`$trust_base\`"
    # Full ref names: a tag named like the branch must not stand in for it.
    trust_commit="$(git rev-parse --verify --quiet "refs/remotes/origin/$trust_base^{commit}")" &&
        return 0
    # actions/checkout's shallow clone has only the merge commit: fetch the target branch.
    GIT_TERMINAL_PROMPT=0 git fetch --quiet --no-tags --depth=1 origin "refs/heads/$trust_base" &&
        trust_commit="$(git rev-parse --verify --quiet 'FETCH_HEAD^{commit}')" &&
        return 0
    if [ -n "${trust_base_sha:-}" ] && trust_ref_ok "$trust_base_sha" &&
        trust_commit="$(git rev-parse --verify --quiet "$trust_base_sha^{commit}")"; then
        return 0
    fi
    trust_fail "cannot read the target branch \`$trust_base\`: \`git fetch origin refs/heads/$trust_base\` failed, so the gate cannot use its policy; set $trust_off_name to use the $trust_request_name's own"
    return 1
}

# The path from the repository's top of $2 (relative to the working directory) if commit
# $1 has a file there; fails otherwise (also for paths outside the repository). An entry
# is `MODE TYPE OBJECT<tab>PATH`; a second line means $2 was no single file.
trust_tab="$(printf '\t')"
trust_newline="
"
trust_tracked() {
    trust_entry="$(git ls-tree -z --full-name "$1" -- "$2" 2>/dev/null | tr '\000' '\n')" ||
        return 1
    case "$trust_entry" in
        *"$trust_newline"*) return 1 ;;
        [0-9]*" blob "*"$trust_tab"?*) printf '%s\n' "${trust_entry#*"$trust_tab"}" ;;
        *) return 1 ;;
    esac
}

# Whether the checkout's $1 differs from the trusted commit's (changed, added or removed).
trust_differs() {
    ! git diff --quiet --no-ext-diff --no-textconv "$trust_commit" -- "$1" 2>/dev/null
}

# Exports every YAML file of the trusted commit, and $1 (a path from the top), into
# trust_tree, once: the policy and whatever it extends.
trust_export() {
    [ -z "$trust_tree" ] || return 0
    trust_tree="$trust_work/tree"
    mkdir -p "$trust_tree" || return 1
    set -- ":(literal)$1"
    for trust_ext in yaml yml; do
        trust_count="$(git -C "$trust_top" ls-tree -r --name-only "$trust_commit" |
            grep -c "\\.$trust_ext\$" || true)"
        [ "${trust_count:-0}" = 0 ] || set -- "$@" ":(glob)**/*.$trust_ext"
    done
    git -C "$trust_top" archive --format=tar -o "$trust_work/tree.tar" "$trust_commit" -- "$@" &&
        tar -xf "$trust_work/tree.tar" -C "$trust_tree"
}

# $1 as portcullis takes it: on Windows (Git Bash) a path from mktemp is /d/a/…, which
# MSYS may leave unconverted in the FROM of `--policy-remap FROM=TO` (untested on Windows).
trust_native() {
    if command -v cygpath >/dev/null 2>&1; then cygpath -m "$1"; else printf '%s\n' "$1"; fi
}

trust_short() {
    git rev-parse --short=12 "$trust_commit"
}

# The policy to use: trust_use_policy (a file), set from the trusted commit.
trust_decide_policy() {
    if [ "$trust_policy_given" = false ]; then
        trust_yaml="$(trust_tracked "$trust_commit" .portcullis.yaml || true)"
        trust_yml="$(trust_tracked "$trust_commit" .portcullis.yml || true)"
        if [ -n "$trust_yaml" ] && [ -n "$trust_yml" ]; then
            trust_fail "$trust_label has both $trust_yaml and $trust_yml; the gate cannot tell which policy applies"
            return 1
        fi
        # The file that revision has; else the one the checkout has, for the notice.
        trust_policy=.portcullis.yaml
        if [ -n "$trust_yml" ] || { [ -z "$trust_yaml" ] && [ -e .portcullis.yml ]; }; then
            trust_policy=.portcullis.yml
        fi
    fi
    if trust_full="$(trust_tracked "$trust_commit" "$trust_policy")"; then
        trust_export "$trust_full" || {
            trust_fail "cannot export the policy files of $trust_label"
            return 1
        }
        trust_use_policy="$trust_tree/$trust_full"
        trust_say "policy $trust_full from $trust_label, commit $(trust_short)"
        if trust_differs "$trust_policy"; then
            trust_changed "$trust_full" "its version on $trust_label (commit $(trust_short))"
        fi
        return 0
    fi
    if [ "$trust_policy_given" = true ] && ! trust_tracked HEAD "$trust_policy" >/dev/null; then
        trust_say "policy $trust_policy: not a file of this repository (a central policy?), used as it is"
        trust_use_policy="$trust_policy"
        return 0
    fi
    # The trusted commit has no such policy: the built-in default applies, whatever the
    # checkout holds.
    trust_use_policy="$trust_work/default-policy.yaml"
    printf '# The built-in default policy: %s has no policy file.\nversion: 1\nextends: default\n' \
        "$trust_label" >"$trust_use_policy" || return 1
    trust_missing="$trust_policy"
    [ "$trust_policy_given" = true ] || trust_missing=".portcullis.yaml or .portcullis.yml"
    trust_say "policy: the built-in default policy, as $trust_label (commit $(trust_short)) has no $trust_missing"
    if [ -e "$trust_policy" ]; then
        trust_changed "$(trust_tracked HEAD "$trust_policy" || printf '%s' "$trust_policy")" \
            "the built-in default policy, as $trust_label (commit $(trust_short)) has none"
    fi
}

# The baseline to use: trust_use_baseline (a file, or empty for none).
trust_decide_baseline() {
    [ "$trust_baseline_given" = true ] || return 0
    if trust_full="$(trust_tracked "$trust_commit" "$trust_baseline")"; then
        trust_use_baseline="$trust_work/baseline/$trust_full"
        if ! mkdir -p "$(dirname "$trust_use_baseline")" ||
            ! git cat-file blob "$trust_commit:$trust_full" >"$trust_use_baseline"; then
            trust_fail "cannot read the baseline $trust_full from $trust_label"
            return 1
        fi
        trust_say "baseline $trust_full from $trust_label, commit $(trust_short)"
        if trust_differs "$trust_baseline"; then
            trust_changed "$trust_full" "its version on $trust_label (commit $(trust_short))"
        fi
        return 0
    fi
    if ! trust_tracked HEAD "$trust_baseline" >/dev/null; then
        trust_say "baseline $trust_baseline: not a file of this repository, used as it is"
        trust_use_baseline="$trust_baseline"
        return 0
    fi
    trust_use_baseline=
    trust_say "no baseline: $trust_label (commit $(trust_short)) has no $trust_baseline, so every finding counts"
    trust_changed "$(trust_tracked HEAD "$trust_baseline")" \
        "no baseline, as $trust_label (commit $(trust_short)) has none"
}

# Tells the reviewers that the checkout's FILE ($1) did not apply; $2 says what did.
trust_changed() {
    if [ -n "$trust_ref" ]; then
        trust_notice "$1" "$1 in this checkout is not what the gate used: it used $2."
    else
        trust_notice "$1" "This $trust_request_name changes $1, but the gate used $2: the change applies once the $trust_request_name is merged."
    fi
}

trust_decide() {
    trust_top="$(git rev-parse --show-toplevel 2>/dev/null)" || {
        trust_fail "the policy must be read from git (the target branch or $trust_ref_name), but the working directory is not a git checkout; set $trust_off_name to use the files as they are"
        return 1
    }
    trust_resolve || return 1
    trust_decide_policy || return 1
    trust_decide_baseline || return 1
    trust_rewrite=true
}

# The policy and baseline the arguments name.
trust_next=
for trust_arg do
    trust_value_of="$trust_next"
    trust_next=
    case "$trust_value_of" in
        policy) trust_policy="$trust_arg" && continue ;;
        baseline) trust_baseline="$trust_arg" && continue ;;
    esac
    case "$trust_arg" in
        --) break ;;
        --policy) trust_next=policy trust_policy_given=true ;;
        --policy=*) trust_policy="${trust_arg#--policy=}" trust_policy_given=true ;;
        --baseline) trust_next=baseline trust_baseline_given=true ;;
        --baseline=*) trust_baseline="${trust_arg#--baseline=}" trust_baseline_given=true ;;
    esac
done

if [ -n "$trust_ref" ] || { [ "$trust_request" = true ] && [ "$trust_enabled" != false ]; }; then
    # Whatever failed, it fails closed: never the checkout's files instead.
    if ! trust_decide && [ -z "$trust_error" ]; then
        trust_fail "cannot read the policy from git" || true
    fi
elif [ "$trust_request" = true ]; then
    trust_say "policy and baseline from the checkout: $trust_off_name, so this $trust_request_name's own apply"
else
    trust_say "policy and baseline from the checkout (not a $trust_request_name pipeline)"
fi

# The arguments without the request's policy and baseline, and with the trusted ones right
# after the first argument (the subcommand, `check`). Each argument is moved from the front
# to the back, the POSIX way to edit "$@"; after a `--` every argument is a target.
if [ "$trust_rewrite" = true ]; then
    trust_state=first
    for trust_arg do
        shift
        case "$trust_state" in
            first)
                set -- "$@" "$trust_arg" --policy "$(trust_native "$trust_use_policy")"
                [ -z "$trust_tree" ] ||
                    set -- "$@" --policy-remap "$(trust_native "$trust_tree")=$(trust_native "$trust_top")"
                [ -z "$trust_use_baseline" ] ||
                    set -- "$@" --baseline "$(trust_native "$trust_use_baseline")"
                trust_state=options
                continue
                ;;
            value) trust_state=options && continue ;;
            options)
                case "$trust_arg" in
                    --) trust_state=targets ;;
                    --policy | --baseline) trust_state=value && continue ;;
                    --policy=* | --baseline=*) continue ;;
                esac
                ;;
        esac
        set -- "$@" "$trust_arg"
    done
fi
