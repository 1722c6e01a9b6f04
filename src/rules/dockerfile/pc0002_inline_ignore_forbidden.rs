use crate::finding::Severity;
use crate::rules::Check;

crate::declare_rule! {
    /// An inline ignore pragma is present but the policy forbids inline ignores.
    ///
    /// ## Why
    /// With `inline_ignores: false` in the policy, a central team keeps control of what is
    /// exempted: exceptions live in the policy file, with a reason and an expiry date. The
    /// pragmas `# portcullis ignore=…` and `# hadolint ignore=…` (and their `global` forms) are
    /// then not honoured; each one is reported so that it can be removed or turned into a
    /// policy exception. The findings it tried to silence are reported as usual.
    ///
    /// The engine produces this finding; it only appears when the policy sets
    /// `inline_ignores: false`.
    ///
    /// ## Example
    /// ```dockerfile
    /// # hadolint ignore=DL3008
    /// RUN apt-get install -y curl
    /// ```
    /// Move the exemption into the policy:
    /// ```yaml
    /// exceptions:
    ///   - rules: [DL3008]
    ///     paths: ["images/tools/Dockerfile"]
    ///     reason: "curl version follows the base image"
    /// ```
    pub static RULE = Rule {
        id: "PC0002",
        name: "inline-ignore-forbidden",
        severity: Severity::Medium,
        check: Check::Engine,
    };
}
