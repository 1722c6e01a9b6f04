use crate::finding::{Severity, Span};
use crate::image::Platform;
use crate::rules::{Check, Diagnostics, ImageContext, OptionKind, OptionSpec};

crate::declare_rule! {
    /// Image built for an operating system or CPU the policy does not allow.
    ///
    /// Each platform image of the target (every entry of a multi-platform index, or the one
    /// image) must match one of the policy's `platforms`, written `os/arch[/variant]`
    /// (`linux/amd64`, `linux/arm64`, `linux/arm/v7`). Names are compared the way containerd
    /// compares them (`aarch64` is `arm64`, `x86_64` is `amd64`); a pattern without a variant
    /// admits every variant. Off unless the policy enables it, and it allows everything until
    /// `platforms` names something (a note says so). Patterns that are not `os/arch[/variant]`
    /// are ignored with a note.
    ///
    /// With `--platform`, only the selected platform is fetched and judged.
    ///
    /// ## Why
    /// A platform the fleet does not run is untested weight at best; at worst it is what a
    /// node of that kind pulls by accident. A policy of platforms keeps releases to what is
    /// built, tested and supported.
    ///
    /// ## Example
    /// With `platforms: [linux/amd64, linux/arm64]`, an index that also holds `linux/s390x`
    /// is reported for `linux/s390x`. Build only the supported platforms
    /// (`docker buildx build --platform linux/amd64,linux/arm64`).
    pub static RULE = Rule {
        id: "PC3006",
        name: "platform-not-allowed",
        severity: Severity::Medium,
        enabled_by_default: false,
        options: &[OptionSpec {
            name: "platforms",
            kind: OptionKind::StringList,
            doc: "Allowed platforms, `os/arch[/variant]` (e.g. `linux/amd64`, `linux/arm/v7`).",
        }],
        check: Check::Image(check),
    };
}

fn check(ctx: &ImageContext<'_>, out: &mut Diagnostics) {
    let written = ctx.options.list("platforms");
    if written.is_empty() {
        out.note("no `platforms` option is set, so every platform is allowed");
        return;
    }
    let mut allowed = Vec::new();
    for pattern in written {
        match Platform::parse(pattern) {
            Ok(p) => allowed.push(p),
            Err(e) => out.note(format!("ignoring {e}")),
        }
    }
    let platform = &ctx.platform.platform;
    if !allowed.iter().any(|a| platform.matches(a)) {
        out.push(
            Span::default(),
            format!(
                "platform `{platform}` is not one the policy allows ({})",
                written.join(", ")
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::ImageConfig;
    use crate::rules::image::testing::{image, list, messages_with};

    fn on(os: &str, arch: &str, variant: Option<&str>) -> crate::image::ImageFacts {
        let mut facts = image(ImageConfig::default(), &[1]);
        facts.platforms[0].platform = Platform::new(os, arch, variant);
        facts
    }

    #[test]
    fn catches_platforms_outside_the_list() {
        let allowed = [("platforms", list(&["linux/amd64", "linux/arm64"]))];
        assert_eq!(
            messages_with(&RULE, &on("linux", "s390x", None), &allowed),
            vec!["platform `linux/s390x` is not one the policy allows (linux/amd64, linux/arm64)"]
        );
        assert_eq!(
            messages_with(&RULE, &on("windows", "amd64", None), &allowed).len(),
            1
        );
        let v7 = [("platforms", list(&["linux/arm/v7"]))];
        assert_eq!(
            messages_with(&RULE, &on("linux", "arm", Some("v6")), &v7).len(),
            1
        );
    }

    #[test]
    fn does_not_catch_allowed_platforms_or_without_the_option() {
        let allowed = [("platforms", list(&["linux/amd64", "linux/arm64"]))];
        assert!(messages_with(&RULE, &on("linux", "amd64", None), &allowed).is_empty());
        assert!(messages_with(&RULE, &on("linux", "aarch64", Some("v8")), &allowed).is_empty());
        assert!(messages_with(&RULE, &on("linux", "s390x", None), &[]).is_empty());
    }
}
