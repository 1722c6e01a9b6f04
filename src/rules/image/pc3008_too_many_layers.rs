use crate::finding::{Severity, Span};
use crate::rules::{Check, Diagnostics, ImageContext, OptionKind, OptionSpec};

/// The limit without a `max_layers` option: well under the 125–128 layers at which
/// overlayfs-based storage drivers refuse to start a container ("max depth exceeded").
const DEFAULT_MAX_LAYERS: i64 = 100;

crate::declare_rule! {
    /// Image has more layers than the policy allows.
    ///
    /// Counts the layers in the image's manifest (each `RUN`, `COPY` and `ADD` of every image
    /// in its ancestry adds one) and reports an image with more than `max_layers`: 100
    /// unless the policy says otherwise.
    ///
    /// ## Why
    /// Docker's overlay2 storage driver cannot start a container from an image with more than
    /// about 125 layers; long before that, every layer is one more download, one more
    /// filesystem to stack, and a sign that each build step kept its leftovers. Combine `RUN`
    /// steps, and copy build results into a fresh final stage.
    ///
    /// ## Example
    /// An image built from a long chain of base images, each adding dozens of single-command
    /// `RUN` layers, is reported once it passes 100 layers. Merge consecutive `RUN`s
    /// (`DL3059`) and use a multi-stage build.
    pub static RULE = Rule {
        id: "PC3008",
        name: "too-many-layers",
        severity: Severity::Low,
        options: &[OptionSpec {
            name: "max_layers",
            kind: OptionKind::Integer,
            doc: "The most layers an image may have (default 100).",
        }],
        check: Check::Image(check),
    };
}

fn check(ctx: &ImageContext<'_>, out: &mut Diagnostics) {
    let max = ctx
        .options
        .integer("max_layers")
        .unwrap_or(DEFAULT_MAX_LAYERS)
        .max(0);
    let count = ctx.platform.layers.len();
    if i64::try_from(count).unwrap_or(i64::MAX) > max {
        out.push(
            Span::default(),
            format!(
                "the image has {count} layers, more than the policy's {max}; combine build \
                 steps or use a multi-stage build"
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
    fn catches_images_with_too_many_layers() {
        let facts = image(ImageConfig::default(), &[1; 101]);
        assert_eq!(
            messages_with(&RULE, &facts, &[]),
            vec![
                "the image has 101 layers, more than the policy's 100; combine build steps or \
                 use a multi-stage build"
            ]
        );
        let facts = image(ImageConfig::default(), &[1; 4]);
        assert_eq!(
            messages_with(&RULE, &facts, &[("max_layers", OptionValue::Integer(3))]).len(),
            1
        );
    }

    #[test]
    fn does_not_catch_images_within_the_limit() {
        assert!(messages_with(&RULE, &image(ImageConfig::default(), &[1; 100]), &[]).is_empty());
        let facts = image(ImageConfig::default(), &[1; 3]);
        assert!(
            messages_with(&RULE, &facts, &[("max_layers", OptionValue::Integer(3))]).is_empty()
        );
    }
}
