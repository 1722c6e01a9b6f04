use super::util::locate;
use crate::dockerfile::Args;
use crate::finding::Severity;
use crate::rules::dockerfile::util::{expand_at, onbuild_trigger};
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// SSH port 22 exposed.
    ///
    /// Flags `EXPOSE 22`, `EXPOSE 22/tcp`, and port ranges that include 22 (`EXPOSE 20-25`),
    /// with variables expanded as BuildKit does (`ARG SSH_PORT=22` then `EXPOSE $SSH_PORT`).
    /// `22/udp` is not SSH and is not reported.
    ///
    /// ## Why
    /// Port 22 means an SSH server runs in the container: one more daemon to patch, usually
    /// with keys or passwords baked into the image (see `PC2005` and `PC2007`), and a remote
    /// login into something that should be replaced, not logged into. `docker exec` and
    /// `kubectl exec` give a shell without any of that. The severity is low because `EXPOSE`
    /// alone publishes nothing (`docker run -P` or a port mapping does); it documents an
    /// anti-pattern rather than opening a hole by itself.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM ubuntu:24.04
    /// RUN apt-get update && apt-get install -y openssh-server
    /// EXPOSE 22
    /// CMD ["/usr/sbin/sshd", "-D"]
    /// ```
    /// Drop the SSH server and use `docker exec -it <container> sh` when you need a shell.
    pub static RULE = Rule {
        id: "PC2008",
        name: "ssh-port-exposed",
        severity: Severity::Low,
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    let facts = ctx.facts;
    for (index, inst) in facts.file.instructions.iter().enumerate() {
        let (inner, _) = onbuild_trigger(inst);
        let Args::Expose(ports) = &inner.args else {
            continue;
        };
        for written in ports {
            let port = expand_at(facts, index, written).unwrap_or_else(|_| written.clone());
            if includes_ssh(&port) {
                let shown = if port == *written {
                    format!("`{written}`")
                } else {
                    format!("`{written}` (resolved to `{port}`)")
                };
                out.push(
                    locate(facts, inst.span, written),
                    format!(
                        "EXPOSE {shown} exposes the SSH port: an SSH server in a container is \
                         one more way in; use `docker exec` instead"
                    ),
                );
            }
        }
    }
}

/// Whether a port spec (`22`, `22/tcp`, `20-25/tcp`) covers TCP port 22.
fn includes_ssh(spec: &str) -> bool {
    let (ports, protocol) = spec.split_once('/').unwrap_or((spec, "tcp"));
    if !protocol.eq_ignore_ascii_case("tcp") {
        return false;
    }
    let number = |s: &str| s.trim().parse::<u32>().ok();
    match ports.split_once('-') {
        Some((low, high)) => match (number(low), number(high)) {
            (Some(low), Some(high)) => (low..=high).contains(&22),
            _ => false,
        },
        None => number(ports) == Some(22),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::dockerfile::testing::{lint, messages};

    #[test]
    fn catches_port_22() {
        for src in [
            "FROM a\nEXPOSE 22\n",
            "FROM a\nEXPOSE 22/tcp\n",
            "FROM a\nEXPOSE 80 443 22\n",
            "FROM a\nEXPOSE 20-25\n",
            "FROM a\nARG SSH_PORT=22\nEXPOSE $SSH_PORT\n",
            "FROM a\nONBUILD EXPOSE 22\n",
        ] {
            assert_eq!(lint(&RULE, src).len(), 1, "should catch:\n{src}");
        }
        assert_eq!(
            messages(&RULE, "FROM a\nENV P=22\nEXPOSE ${P}/tcp\n"),
            vec![
                "EXPOSE `${P}/tcp` (resolved to `22/tcp`) exposes the SSH port: an SSH server in \
                 a container is one more way in; use `docker exec` instead"
            ]
        );
    }

    #[test]
    fn does_not_catch_other_ports() {
        for src in [
            "FROM a\nEXPOSE 80\n",
            "FROM a\nEXPOSE 2222\n",
            "FROM a\nEXPOSE 220\n",
            "FROM a\nEXPOSE 22/udp\n",
            "FROM a\nEXPOSE 8000-8080\n",
            "FROM a\nEXPOSE $PORT\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "should pass:\n{src}");
        }
    }
}
