use super::util::{expand_at, onbuild_trigger};
use crate::dockerfile::Args;
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// `EXPOSE` of a port outside 0–65535, or of something that is not a port.
    ///
    /// Checks each `EXPOSE` item (also inside `ONBUILD`): a port or a range (`8000-8010`),
    /// optionally with `/tcp`, `/udp` or `/sctp`. Numbers above 65535, ranges that run
    /// backwards, other protocols and text that is no port at all are reported. Variables are
    /// resolved from the stage's `ARG`s and `ENV`s; items whose variables have no known value
    /// are not judged.
    ///
    /// ## Why
    /// TCP and UDP ports are 16-bit numbers. Docker refuses such an `EXPOSE` when the image is
    /// built or run, and usually the typo hides the port that was meant.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM nginx:1.27
    /// EXPOSE 80800
    /// ```
    /// Expose the intended port:
    /// ```dockerfile
    /// FROM nginx:1.27
    /// EXPOSE 8080
    /// ```
    pub static RULE = Rule {
        id: "DL3011",
        name: "invalid-exposed-port",
        severity: Severity::High,
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    let facts = ctx.facts;
    for (index, inst) in facts.file.instructions.iter().enumerate() {
        let (inst, onbuild) = onbuild_trigger(inst);
        let Args::Expose(items) = &inst.args else {
            continue;
        };
        for item in items {
            let value = if item.contains('$') {
                if onbuild {
                    continue;
                }
                match expand_at(facts, index, item) {
                    Ok(value) => value,
                    Err(_) => continue,
                }
            } else {
                item.clone()
            };
            // A variable may hold several items.
            for port in value.split_whitespace() {
                if let Err(problem) = validate(port) {
                    let shown = if port == item {
                        format!("`{port}`")
                    } else {
                        format!("`{port}` (from `{item}`)")
                    };
                    out.push(inst.span, format!("EXPOSE {shown}: {problem}"));
                }
            }
        }
    }
}

/// Checks `port[-port][/protocol]`.
fn validate(item: &str) -> Result<(), String> {
    let (ports, protocol) = match item.split_once('/') {
        Some((ports, protocol)) => (ports, Some(protocol)),
        None => (item, None),
    };
    if let Some(protocol) = protocol {
        if !["tcp", "udp", "sctp"].contains(&protocol.to_ascii_lowercase().as_str()) {
            return Err(format!(
                "unknown protocol `{protocol}`; use tcp, udp or sctp"
            ));
        }
    }
    let (low, high) = match ports.split_once('-') {
        Some((low, high)) => (number(low)?, number(high)?),
        None => {
            let port = number(ports)?;
            (port, port)
        }
    };
    if low > 65535 || high > 65535 {
        return Err("valid ports range from 0 to 65535".into());
    }
    if low > high {
        return Err(format!("the range runs backwards ({low} > {high})"));
    }
    Ok(())
}

fn number(text: &str) -> Result<u64, String> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("`{text}` is not a port number"));
    }
    // More digits than any u64: certainly out of range.
    Ok(text.parse().unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::dockerfile::testing::{lint, messages};

    #[test]
    fn catches_out_of_range_ports() {
        assert_eq!(lint(&RULE, "FROM alpine\nEXPOSE 80 65536\n"), vec![2]);
        assert_eq!(lint(&RULE, "FROM alpine\nEXPOSE 80800/tcp\n"), vec![2]);
        assert_eq!(lint(&RULE, "FROM alpine\nEXPOSE 8000-70000\n"), vec![2]);
        assert_eq!(
            lint(&RULE, "FROM alpine\nEXPOSE 99999999999999999999999\n"),
            vec![2]
        );
        assert_eq!(lint(&RULE, "FROM alpine\nONBUILD EXPOSE 70000\n"), vec![2]);
    }

    #[test]
    fn catches_malformed_items() {
        assert_eq!(lint(&RULE, "FROM alpine\nEXPOSE 80/http\n"), vec![2]);
        assert_eq!(lint(&RULE, "FROM alpine\nEXPOSE 9000-8000\n"), vec![2]);
        assert_eq!(lint(&RULE, "FROM alpine\nEXPOSE eighty\n"), vec![2]);
        // EXPOSE has no JSON form: BuildKit fails on `["80",` as a port.
        assert_eq!(
            lint(&RULE, "FROM alpine\nEXPOSE [\"80\", \"443\"]\n"),
            vec![2, 2]
        );
    }

    #[test]
    fn catches_ports_from_args() {
        assert_eq!(
            messages(&RULE, "FROM alpine\nARG PORT=80800\nEXPOSE $PORT\n"),
            vec!["EXPOSE `80800` (from `$PORT`): valid ports range from 0 to 65535"]
        );
    }

    #[test]
    fn does_not_catch_valid_or_unknown_ports() {
        for src in [
            "FROM alpine\nEXPOSE 80 443/tcp 53/udp 0 65535\n",
            "FROM alpine\nEXPOSE 8000-8010/TCP 3868/sctp\n",
            "FROM alpine\nEXPOSE $PORT\n",
            "FROM alpine\nARG PORT=8080\nEXPOSE ${PORT}/tcp\n",
            "FROM alpine\nONBUILD EXPOSE $PORT\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "{src}");
        }
    }
}
