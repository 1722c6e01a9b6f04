use crate::finding::{Severity, Span};
use crate::image::layers::{Fate, LayerSecret};
use crate::rules::{Check, Diagnostics, ImageContext};

crate::declare_rule! {
    /// Secret in an image layer, even one a later layer deleted.
    ///
    /// Reads every file of every layer of each platform image (the layers are streamed and
    /// verified; see the README's "Layers") and reports credentials: private keys (PEM,
    /// OpenSSH, PKCS#8, encrypted ones too), AWS key ids and secret keys (also in
    /// `.aws/credentials`), GCP service-account JSON, tokens in known formats (GitHub, GitLab,
    /// Slack, Stripe, npm's `_authToken` in `.npmrc`), registry auth in `.docker/config.json`,
    /// `.git-credentials`, `.netrc` and `.pypirc` passwords, kubeconfig tokens and client keys.
    ///
    /// An image ships every layer: a file `rm`-ed in a later step is still in the layer that
    /// added it, readable by anyone who can pull the image (`docker save`, `skopeo copy`, then
    /// untar). The finding names the layer (its index, digest and the history step that
    /// created it), the path and the kind of secret — never its value — and what later layers
    /// did to it: still in the image, deleted, or overwritten. Published documentation
    /// examples (AWS's `…EXAMPLE` keys), public keys and certificates, placeholders
    /// (`_authToken=${NPM_TOKEN}`) and a docker config that only names a `credsStore` are not
    /// secrets; a real-looking value that merely contains `example` is. Files that look binary
    /// (a NUL in their first 8 KiB) are not searched, nor a file's bytes past the policy's
    /// `layers.max_scan_bytes` (64 MiB by default).
    ///
    /// ## Why
    /// Build secrets copied into an image leak to everyone who can pull it; deleting them in
    /// a later `RUN` changes nothing. Use BuildKit secret mounts (`RUN --mount=type=secret`)
    /// or a multi-stage build whose final stage never receives the secret, then rotate the
    /// leaked credential.
    ///
    /// ## Example
    /// `COPY id_rsa /root/.ssh/` then `RUN git clone … && rm /root/.ssh/id_rsa`: `a private
    /// key in /root/.ssh/id_rsa (line 1) of layer 2 …: still in layer 2, deleted by layer 3 —
    /// every layer ships`.
    pub static RULE = Rule {
        id: "PC3009",
        name: "secret-in-layer",
        severity: Severity::Critical,
        enabled_by_default: false,
        check: Check::Image(check),
        needs_layers: true,
    };
}

fn check(ctx: &ImageContext<'_>, out: &mut Diagnostics) {
    let Some(filesystem) = super::filesystem(ctx, out) else {
        return;
    };
    // One finding per secret kind per file of a layer: the first line, and how many more.
    // In the order found; indexed, as a hostile image may hold thousands of secrets.
    let mut seen: Vec<(&LayerSecret, usize)> = Vec::new();
    let mut index: std::collections::HashMap<(usize, &str, &str), usize> = Default::default();
    for secret in &filesystem.secrets {
        let key = (secret.layer, secret.path.as_str(), secret.kind);
        match index.get(&key) {
            Some(&at) => seen[at].1 += 1,
            None => {
                index.insert(key, seen.len());
                seen.push((secret, 0));
            }
        }
    }
    for (secret, more) in seen {
        let layer = super::layer_name(ctx, secret.layer);
        let fate = match secret.fate {
            Fate::Present => "it is in the final filesystem".to_string(),
            Fate::DeletedBy(by) => format!(
                "still in layer {}, deleted by layer {}: every layer ships",
                secret.layer + 1,
                by + 1
            ),
            Fate::OverwrittenBy(by) => format!(
                "still in layer {}, overwritten by layer {}: every layer ships",
                secret.layer + 1,
                by + 1
            ),
        };
        let more = match more {
            0 => String::new(),
            n => format!(", and {n} more like it"),
        };
        out.push(
            Span::default(),
            format!(
                "{} in `{}` (line {}{more}) of {layer}; {fate}. Remove it from the build (a \
                 secret mount, or a stage the final image does not copy from) and rotate it",
                secret.kind, secret.path, secret.line
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::image::testing::{messages_with, with_filesystem};

    fn secret(
        layer: usize,
        path: &str,
        kind: &'static str,
        line: usize,
        fate: Fate,
    ) -> LayerSecret {
        LayerSecret {
            layer,
            path: path.into(),
            kind,
            line,
            fate,
        }
    }

    #[test]
    fn catches_secrets_in_every_layer_saying_what_became_of_them() {
        let facts = with_filesystem(|fs| {
            fs.secrets = vec![
                secret(
                    1,
                    "/root/.ssh/id_rsa",
                    "a private key",
                    1,
                    Fate::DeletedBy(2),
                ),
                secret(
                    1,
                    "/app/.env",
                    "an AWS secret access key",
                    3,
                    Fate::OverwrittenBy(2),
                ),
                secret(2, "/app/config.yml", "a GitHub token", 7, Fate::Present),
                secret(2, "/app/config.yml", "a GitHub token", 9, Fate::Present),
            ];
        });
        let found = messages_with(&RULE, &facts, &[]);
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(
            found[0].starts_with("a private key in `/root/.ssh/id_rsa` (line 1) of layer 2"),
            "{}",
            found[0]
        );
        assert!(
            found[0].contains("still in layer 2, deleted by layer 3: every layer ships"),
            "{}",
            found[0]
        );
        assert!(found[1].contains("overwritten by layer 3"), "{}", found[1]);
        assert!(
            found[2].contains("(line 7, and 1 more like it) of layer 3"),
            "{}",
            found[2]
        );
        assert!(
            found[2].contains("it is in the final filesystem"),
            "{}",
            found[2]
        );
        // The layer is named by digest and by the history step that made it.
        assert!(found[0].contains("sha256:"), "{}", found[0]);
        assert!(found[0].contains("COPY id_rsa /root/.ssh/"), "{}", found[0]);
    }

    #[test]
    fn does_not_catch_an_image_without_secrets() {
        let clean = with_filesystem(|_| {});
        assert!(messages_with(&RULE, &clean, &[]).is_empty());
    }

    #[test]
    fn an_image_whose_layers_were_not_read_cannot_pass() {
        let unread = crate::rules::image::testing::image(Default::default(), &[1]);
        let found = messages_with(&RULE, &unread, &[]);
        assert_eq!(found.len(), 1);
        assert!(found[0].contains("layers were not read"), "{}", found[0]);
    }
}
