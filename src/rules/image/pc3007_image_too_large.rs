use crate::finding::{Severity, Span};
use crate::rules::{Check, Diagnostics, ImageContext, OptionKind, OptionSpec};

crate::declare_rule! {
    /// Image larger than the policy allows.
    ///
    /// Adds up the sizes of the image's layers as stored (compressed, for registry images and
    /// OCI layouts; tar sizes for a legacy `docker save` archive), as their manifest declares
    /// them, and reports an image over `max_bytes`. Layers are never downloaded. Off unless
    /// the policy enables it, and it checks nothing until `max_bytes` is set (a note says so):
    /// there is no size that suits every image.
    ///
    /// ## Why
    /// Every byte is pulled by every node that runs the image: size is start-up time,
    /// registry and egress cost, and usually attack surface (compilers, package caches and
    /// debug tools left in). A budget catches a regression, such as a build stage's toolchain
    /// copied into the final image, when it is made.
    ///
    /// ## Example
    /// With `max_bytes: 100000000`, an image whose layers total 350 MB is reported. Build in
    /// one stage and copy only the result into a slim final stage.
    pub static RULE = Rule {
        id: "PC3007",
        name: "image-too-large",
        severity: Severity::Medium,
        enabled_by_default: false,
        options: &[OptionSpec {
            name: "max_bytes",
            kind: OptionKind::Integer,
            doc: "The most bytes the image's layers may total, as stored (compressed).",
        }],
        check: Check::Image(check),
    };
}

fn check(ctx: &ImageContext<'_>, out: &mut Diagnostics) {
    let Some(max) = ctx.options.integer("max_bytes") else {
        out.note("no `max_bytes` option is set, so image size is not checked");
        return;
    };
    let max = u64::try_from(max).unwrap_or(0);
    let size = ctx.platform.compressed_size;
    if size > max {
        out.push(
            Span::default(),
            format!(
                "the image's layers total {} ({size} bytes), more than the policy's {} \
                 ({max} bytes)",
                crate::image::human_size(size),
                crate::image::human_size(max)
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::ImageConfig;
    use crate::rules::image::testing::{image, messages_with};
    use crate::rules::OptionValue;

    #[test]
    fn catches_images_over_max_bytes() {
        let facts = image(ImageConfig::default(), &[200_000_000, 150_000_000]);
        assert_eq!(
            messages_with(
                &RULE,
                &facts,
                &[("max_bytes", OptionValue::Integer(100_000_000))]
            ),
            vec![
                "the image's layers total 350.0 MB (350000000 bytes), more than the policy's \
                 100.0 MB (100000000 bytes)"
            ]
        );
    }

    #[test]
    fn does_not_catch_small_images_or_without_the_option() {
        let facts = image(ImageConfig::default(), &[500, 500]);
        assert!(
            messages_with(&RULE, &facts, &[("max_bytes", OptionValue::Integer(1000))]).is_empty()
        );
        assert!(messages_with(&RULE, &facts, &[]).is_empty());
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(crate::image::human_size(999), "999 bytes");
        assert_eq!(crate::image::human_size(1_500), "1.5 kB");
        assert_eq!(crate::image::human_size(2_000_000_000), "2.0 GB");
    }
}
