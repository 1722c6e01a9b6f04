//! Rules that judge Dockerfiles.

use super::Rule;

mod dl3016_npm_install_unpinned;
mod dl3018_apk_add_unpinned;
mod dl3019_apk_add_with_cache;
mod dl3028_gem_install_unpinned;
mod dl3048_invalid_label_key;
mod dl3049_missing_label;
mod dl3050_superfluous_label;
mod dl3051_empty_label;
mod dl3052_invalid_url_label;
mod dl3053_invalid_rfc3339_label;
mod dl3054_invalid_spdx_label;
mod dl3055_invalid_git_hash_label;
mod dl3056_invalid_semver_label;
mod dl3058_invalid_email_label;
pub(crate) mod package_managers;
mod rpm_package_managers;
#[cfg(test)]
pub(crate) mod testing;
pub(crate) mod util;

mod dl1001_inline_ignore_pragma;
mod dl3000_relative_workdir;
mod dl3001_pointless_run_command;
mod dl3003_cd_instead_of_workdir;
mod dl3004_sudo_in_run;
mod dl3008_apt_get_install_unpinned;
mod dl3009_apt_lists_not_deleted;
mod dl3010_copied_archive_extracted;
mod dl3011_invalid_exposed_port;
mod dl3012_multiple_healthchecks;
mod dl3013_pip_install_unpinned;
mod dl3014_apt_get_without_yes;
mod dl3015_apt_get_install_recommends;
mod dl3020_add_for_local_files;
mod dl3021_multiple_sources_dest_not_directory;
mod dl3022_copy_from_undefined_stage;
mod dl3023_copy_from_own_stage;
mod dl3024_duplicate_stage_name;
mod dl3025_shell_form_cmd_or_entrypoint;
mod dl3027_apt_instead_of_apt_get;
mod dl3029_hardcoded_platform;
mod dl3030_yum_without_assume_yes;
mod dl3032_yum_cache_not_cleaned;
mod dl3033_yum_install_unpinned;
mod dl3034_zypper_without_non_interactive;
mod dl3035_zypper_dist_upgrade;
mod dl3036_zypper_cache_not_cleaned;
mod dl3037_zypper_install_unpinned;
mod dl3038_dnf_without_assume_yes;
mod dl3040_dnf_cache_not_cleaned;
mod dl3041_dnf_install_unpinned;
mod dl3042_pip_install_with_cache;
mod dl3043_forbidden_onbuild_trigger;
mod dl3044_env_reference_in_same_instruction;
mod dl3045_relative_copy_without_workdir;
mod dl3046_useradd_high_uid_without_no_log_init;
mod dl3047_wget_without_progress_option;
mod dl3057_missing_healthcheck;
mod dl3059_consecutive_run_instructions;
mod dl3060_yarn_cache_not_cleaned;
mod dl3061_instruction_before_from;
mod dl3062_go_install_unpinned;
mod dl3063_reserved_stage_name;
mod dl3064_secret_in_arg_or_env;
mod dl3065_redundant_target_platform;
mod dl3066_non_numeric_user;
mod dl3067_copy_entire_filesystem_from_stage;
mod dl4000_deprecated_maintainer;
mod dl4001_both_wget_and_curl;
mod dl4003_multiple_cmd;
mod dl4004_multiple_entrypoints;
mod dl4005_ln_replaces_bin_sh;
mod dl4006_pipe_without_pipefail;
mod pc0001_dockerfile_syntax_error;
mod pc0002_inline_ignore_forbidden;
mod pc1001_allowed_registries;
mod pc1002_no_latest_tag;
mod pc1003_require_digest;
mod pc1004_non_root_user;
mod pc1005_unresolved_image_reference;
mod pc2001_tls_verification_disabled;
mod pc2002_package_signature_check_disabled;
mod pc2003_unverified_remote_script_executed;
mod pc2004_secret_in_env_or_arg;
mod pc2005_hardcoded_credential;
mod pc2006_secret_in_run_command;
mod pc2007_account_password_set;
mod pc2008_ssh_port_exposed;
mod pc2009_shellcheck;
mod shellcheck;

/// The rule the engine reports forbidden inline-ignore pragmas under.
pub static INLINE_IGNORE_FORBIDDEN: &Rule = &pc0002_inline_ignore_forbidden::RULE;
/// The rule whose findings mean a file could not be parsed (the engine fails closed on them).
pub static SYNTAX_ERROR: &Rule = &pc0001_dockerfile_syntax_error::RULE;

/// Every Dockerfile rule, ordered by code.
pub static ALL: &[&Rule] = &[
    &dl1001_inline_ignore_pragma::RULE,
    &dl3000_relative_workdir::RULE,
    &dl3001_pointless_run_command::RULE,
    &dl3003_cd_instead_of_workdir::RULE,
    &dl3004_sudo_in_run::RULE,
    &dl3008_apt_get_install_unpinned::RULE,
    &dl3009_apt_lists_not_deleted::RULE,
    &dl3010_copied_archive_extracted::RULE,
    &dl3011_invalid_exposed_port::RULE,
    &dl3012_multiple_healthchecks::RULE,
    &dl3013_pip_install_unpinned::RULE,
    &dl3014_apt_get_without_yes::RULE,
    &dl3015_apt_get_install_recommends::RULE,
    &dl3016_npm_install_unpinned::RULE,
    &dl3018_apk_add_unpinned::RULE,
    &dl3019_apk_add_with_cache::RULE,
    &dl3020_add_for_local_files::RULE,
    &dl3021_multiple_sources_dest_not_directory::RULE,
    &dl3022_copy_from_undefined_stage::RULE,
    &dl3023_copy_from_own_stage::RULE,
    &dl3024_duplicate_stage_name::RULE,
    &dl3025_shell_form_cmd_or_entrypoint::RULE,
    &dl3027_apt_instead_of_apt_get::RULE,
    &dl3028_gem_install_unpinned::RULE,
    &dl3029_hardcoded_platform::RULE,
    &dl3030_yum_without_assume_yes::RULE,
    &dl3032_yum_cache_not_cleaned::RULE,
    &dl3033_yum_install_unpinned::RULE,
    &dl3034_zypper_without_non_interactive::RULE,
    &dl3035_zypper_dist_upgrade::RULE,
    &dl3036_zypper_cache_not_cleaned::RULE,
    &dl3037_zypper_install_unpinned::RULE,
    &dl3038_dnf_without_assume_yes::RULE,
    &dl3040_dnf_cache_not_cleaned::RULE,
    &dl3041_dnf_install_unpinned::RULE,
    &dl3042_pip_install_with_cache::RULE,
    &dl3043_forbidden_onbuild_trigger::RULE,
    &dl3044_env_reference_in_same_instruction::RULE,
    &dl3045_relative_copy_without_workdir::RULE,
    &dl3046_useradd_high_uid_without_no_log_init::RULE,
    &dl3047_wget_without_progress_option::RULE,
    &dl3048_invalid_label_key::RULE,
    &dl3049_missing_label::RULE,
    &dl3050_superfluous_label::RULE,
    &dl3051_empty_label::RULE,
    &dl3052_invalid_url_label::RULE,
    &dl3053_invalid_rfc3339_label::RULE,
    &dl3054_invalid_spdx_label::RULE,
    &dl3055_invalid_git_hash_label::RULE,
    &dl3056_invalid_semver_label::RULE,
    &dl3057_missing_healthcheck::RULE,
    &dl3058_invalid_email_label::RULE,
    &dl3059_consecutive_run_instructions::RULE,
    &dl3060_yarn_cache_not_cleaned::RULE,
    &dl3061_instruction_before_from::RULE,
    &dl3062_go_install_unpinned::RULE,
    &dl3063_reserved_stage_name::RULE,
    &dl3064_secret_in_arg_or_env::RULE,
    &dl3065_redundant_target_platform::RULE,
    &dl3066_non_numeric_user::RULE,
    &dl3067_copy_entire_filesystem_from_stage::RULE,
    &dl4000_deprecated_maintainer::RULE,
    &dl4001_both_wget_and_curl::RULE,
    &dl4003_multiple_cmd::RULE,
    &dl4004_multiple_entrypoints::RULE,
    &dl4005_ln_replaces_bin_sh::RULE,
    &dl4006_pipe_without_pipefail::RULE,
    &pc0001_dockerfile_syntax_error::RULE,
    &pc0002_inline_ignore_forbidden::RULE,
    &pc1001_allowed_registries::RULE,
    &pc1002_no_latest_tag::RULE,
    &pc1003_require_digest::RULE,
    &pc1004_non_root_user::RULE,
    &pc1005_unresolved_image_reference::RULE,
    &pc2001_tls_verification_disabled::RULE,
    &pc2002_package_signature_check_disabled::RULE,
    &pc2003_unverified_remote_script_executed::RULE,
    &pc2004_secret_in_env_or_arg::RULE,
    &pc2005_hardcoded_credential::RULE,
    &pc2006_secret_in_run_command::RULE,
    &pc2007_account_password_set::RULE,
    &pc2008_ssh_port_exposed::RULE,
    &pc2009_shellcheck::RULE,
];
