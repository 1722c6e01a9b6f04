use crate::finding::{Severity, Span};
use crate::rules::{Check, Diagnostics, ImageContext, OptionKind, OptionSpec};

/// Ports forbidden when the policy names none: SSH and telnet.
const DEFAULT_PORTS: &[&str] = &["22", "23"];

crate::declare_rule! {
    /// Image exposes a port the policy forbids.
    ///
    /// Reads the image config's `ExposedPorts` (what `EXPOSE` wrote, in this image or any
    /// image it was built from) and reports each port that matches the policy's `ports`.
    /// Without a `ports` option the forbidden ports are 22 (SSH) and 23 (telnet).
    ///
    /// A pattern is a port (`22`, any protocol), a port and protocol (`5353/udp`), or an
    /// inclusive range with or without a protocol (`6000-6010`, `6000-6010/tcp`). A port
    /// exposed without a protocol is TCP, as Docker reads it. Patterns that are none of these
    /// are ignored with a note. `EXPOSE 20-30` writes one key per port, but a config is data
    /// anyone can write: a range key (`20-30/tcp`) is reported when any port in it is
    /// forbidden, and a key that is no port at all is noted, not judged.
    ///
    /// ## Why
    /// An image that exposes SSH or telnet usually runs a login daemon: one more service to
    /// patch, keys or passwords baked into the image, and a way in that bypasses the
    /// orchestrator's access control and audit. `docker exec` and `kubectl exec` do the job
    /// without it. Other ports a platform team does not want published (a debug port, a
    /// database's admin port) go in `ports`.
    ///
    /// ## Example
    /// An image built from
    /// ```dockerfile
    /// FROM debian:12
    /// RUN apt-get update && apt-get install -y openssh-server
    /// EXPOSE 22 8080
    /// ```
    /// is reported for `22/tcp`. Drop the SSH server and its `EXPOSE`; use `docker exec`.
    pub static RULE = Rule {
        id: "PC3001",
        name: "forbidden-exposed-port",
        severity: Severity::Medium,
        options: &[OptionSpec {
            name: "ports",
            kind: OptionKind::StringList,
            doc: "Forbidden ports: `22`, `5353/udp`, `6000-6010` or `6000-6010/tcp` (default: 22 and 23; an empty list forbids nothing).",
        }],
        check: Check::Image(check),
    };
}

fn check(ctx: &ImageContext<'_>, out: &mut Diagnostics) {
    let configured: Vec<String>;
    let patterns: Vec<&str> = if ctx.options.has("ports") {
        configured = ctx.options.list("ports").to_vec();
        configured.iter().map(String::as_str).collect()
    } else {
        DEFAULT_PORTS.to_vec()
    };
    let mut parsed = Vec::new();
    for pattern in patterns {
        match PortPattern::parse(pattern) {
            Some(p) => parsed.push((pattern, p)),
            None => out.note(format!(
                "ignoring port pattern `{pattern}`: expected PORT, PORT/PROTOCOL or FIRST-LAST[/PROTOCOL]"
            )),
        }
    }
    for exposed in &ctx.platform.config.exposed_ports {
        let Some((first, last, protocol)) = exposed_ports(exposed) else {
            out.note(format!(
                "the image config exposes `{}`, which is not a port, a range or either with a \
                 protocol; no runtime can publish it, so it is not judged",
                crate::image::digest::shorten(exposed)
            ));
            continue;
        };
        let Some((pattern, _)) = parsed
            .iter()
            .find(|(_, p)| p.overlaps(first, last, &protocol))
        else {
            continue;
        };
        let message = if first == last {
            format!(
                "the image exposes port `{first}/{protocol}`, which the policy forbids \
                 (`{pattern}`); remove the `EXPOSE` and the service behind it"
            )
        } else {
            format!(
                "the image exposes ports `{first}-{last}/{protocol}`, which include ports the \
                 policy forbids (`{pattern}`); expose only the ports the service needs"
            )
        };
        out.push(Span::default(), message);
    }
}

/// `80/tcp` → (80, 80, "tcp"); `80` → (80, 80, "tcp"); `8000-8010/udp` → (8000, 8010, "udp"):
/// the pattern syntax, with TCP when no protocol is named. `EXPOSE` writes one key per port,
/// but a config is data anyone can write: a range key is judged by every port in it, so that
/// it cannot carry a forbidden port past the gate.
fn exposed_ports(key: &str) -> Option<(u16, u16, String)> {
    let PortPattern {
        first,
        last,
        protocol,
    } = PortPattern::parse(key)?;
    Some((first, last, protocol.unwrap_or_else(|| "tcp".to_string())))
}

/// A forbidden port, range and optional protocol.
struct PortPattern {
    first: u16,
    last: u16,
    protocol: Option<String>,
}

impl PortPattern {
    fn parse(text: &str) -> Option<PortPattern> {
        let (ports, protocol) = match text.trim().split_once('/') {
            Some((ports, protocol)) if !protocol.is_empty() => {
                (ports, Some(protocol.to_ascii_lowercase()))
            }
            Some(_) => return None,
            None => (text.trim(), None),
        };
        let (first, last) = match ports.split_once('-') {
            Some((a, b)) => (a.parse().ok()?, b.parse().ok()?),
            None => {
                let port = ports.parse().ok()?;
                (port, port)
            }
        };
        (first <= last).then_some(PortPattern {
            first,
            last,
            protocol,
        })
    }

    /// Whether any port of `first..=last` over `protocol` is forbidden.
    fn overlaps(&self, first: u16, last: u16, protocol: &str) -> bool {
        first <= self.last
            && self.first <= last
            && self.protocol.as_deref().is_none_or(|p| p == protocol)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::ImageConfig;
    use crate::rules::image::testing::{image, list, messages, messages_with};

    fn exposing(ports: &[&str]) -> ImageConfig {
        ImageConfig {
            exposed_ports: ports.iter().map(|p| p.to_string()).collect(),
            ..ImageConfig::default()
        }
    }

    #[test]
    fn catches_ssh_and_telnet_by_default() {
        assert_eq!(
            messages(&RULE, exposing(&["22/tcp", "8080/tcp"])),
            vec![
                "the image exposes port `22/tcp`, which the policy forbids (`22`); remove the \
                 `EXPOSE` and the service behind it"
            ]
        );
        assert_eq!(messages(&RULE, exposing(&["23"])).len(), 1);
        assert_eq!(messages(&RULE, exposing(&["22/udp"])).len(), 1);
    }

    #[test]
    fn does_not_catch_other_ports_or_none() {
        assert!(messages(&RULE, exposing(&["80/tcp", "443/tcp", "2222/tcp"])).is_empty());
        assert!(messages(&RULE, ImageConfig::default()).is_empty());
    }

    #[test]
    fn ports_option_replaces_the_defaults() {
        let facts = image(
            exposing(&["22/tcp", "6005/tcp", "5353/udp", "5353/tcp"]),
            &[1],
        );
        let found = messages_with(
            &RULE,
            &facts,
            &[("ports", list(&["6000-6010/tcp", "5353/udp"]))],
        );
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found.iter().any(|m| m.contains("`5353/udp`")), "{found:?}");
        assert!(found.iter().any(|m| m.contains("`6005/tcp`")), "{found:?}");
        assert!(messages_with(&RULE, &facts, &[("ports", list(&[]))]).is_empty());
    }

    #[test]
    fn a_range_key_is_judged_by_every_port_in_it() {
        // `EXPOSE 20-30` writes eleven keys, but a hand-written config can hold the range.
        let found = messages(&RULE, exposing(&["20-30/tcp"]));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("`20-30/tcp`") && found[0].contains("(`22`)"));
        assert!(messages(&RULE, exposing(&["24-30/tcp", "8000-8080"])).is_empty());
        let facts = image(exposing(&["5000-5999/udp", "6000-6100/tcp"]), &[1]);
        let found = messages_with(&RULE, &facts, &[("ports", list(&["5990-6005/tcp"]))]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("`6000-6100/tcp`"), "{found:?}");
    }

    #[test]
    fn keys_that_are_not_ports_are_noted_not_judged() {
        let facts = image(exposing(&["ssh", "", "30-20/tcp", "22/"]), &[1]);
        let mut out = Diagnostics::default();
        check(
            &ImageContext {
                image: &facts,
                platform: &facts.platforms[0],
                options: &crate::rules::RuleOptions::default(),
                now: crate::rules::image::testing::now(),
            },
            &mut out,
        );
        assert!(out.0.is_empty());
        assert_eq!(out.notes().len(), 4, "{:?}", out.notes());
        assert!(out.notes()[0].contains("`ssh`"), "{:?}", out.notes());
    }

    #[test]
    fn invalid_patterns_are_ignored_with_a_note() {
        let facts = image(exposing(&["22/tcp"]), &[1]);
        let options = crate::rules::RuleOptions {
            values: [("ports".to_string(), list(&["ssh", "9-1", "22/"]))].into(),
        };
        let mut out = Diagnostics::default();
        check(
            &ImageContext {
                image: &facts,
                platform: &facts.platforms[0],
                options: &options,
                now: crate::rules::image::testing::now(),
            },
            &mut out,
        );
        assert!(out.0.is_empty());
        assert_eq!(out.notes().len(), 3, "{:?}", out.notes());
    }
}
