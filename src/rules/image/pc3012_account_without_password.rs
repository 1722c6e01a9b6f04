use super::accounts::Accounts;
use crate::finding::{Severity, Span};
use crate::rules::{Check, Diagnostics, ImageContext};

crate::declare_rule! {
    /// Account without a password in the image.
    ///
    /// Reads the final filesystem's `/etc/shadow` (and `/etc/passwd`) and reports each account
    /// whose password field is empty: anyone may log in as it, or `su` to it, without a
    /// password. Locked fields are fine: `!`, `*`, `!!`, `!` followed by a hash, and any
    /// hash. In `/etc/passwd`, an empty second field (no `x` pointing at the shadow file)
    /// means no password too.
    ///
    /// ## Why
    /// An account without a password is a root shell away when `su` or `login` is in the
    /// image, and a ready target for whoever gets a shell in the container. Lock it
    /// (`passwd -l NAME`, or `*` in the field). Peers: dockle's DKL-LI-0001.
    ///
    /// ## Example
    /// `guest::19000:0:99999:7:::` in `/etc/shadow`: `account `guest` has no password`.
    pub static RULE = Rule {
        id: "PC3012",
        name: "account-without-password",
        severity: Severity::High,
        enabled_by_default: false,
        check: Check::Image(check),
        needs_layers: true,
    };
}

fn check(ctx: &ImageContext<'_>, out: &mut Diagnostics) {
    let Some(filesystem) = super::filesystem(ctx, out) else {
        return;
    };
    let accounts = Accounts::of(filesystem);
    for entry in accounts.shadow.iter().flatten() {
        if entry.password.is_empty() {
            out.push(
                Span::default(),
                format!(
                    "account `{}` has no password (an empty field in /etc/shadow, line {}); \
                     lock it (`passwd -l {}`)",
                    entry.name, entry.line, entry.name
                ),
            );
        }
    }
    // Without a shadow entry, /etc/passwd's own field decides.
    let shadowed = |name: &str| accounts.shadow.iter().flatten().any(|s| s.name == name);
    for entry in accounts.passwd.iter().flatten() {
        if entry.password.is_empty() && !shadowed(&entry.name) {
            out.push(
                Span::default(),
                format!(
                    "account `{}` has no password (an empty field in /etc/passwd, line {}); \
                     put `x` there and lock it in /etc/shadow",
                    entry.name, entry.line
                ),
            );
        }
    }
    super::note_truncated(&accounts, out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::image::testing::{messages_with, with_filesystem};

    #[test]
    fn catches_accounts_with_an_empty_password_field() {
        let facts = with_filesystem(|fs| {
            fs.account(
                "/etc/shadow",
                "root:*:19000:0:99999:7:::\nguest::19000:0:99999:7:::\n",
            );
            fs.account("/etc/passwd", "root:x:0:0::/root:/bin/sh\nguest:x:1001:1001::/home/guest:/bin/sh\nold::1002:1002::/:/bin/sh\n");
        });
        let found = messages_with(&RULE, &facts, &[]);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            found[0].starts_with(
                "account `guest` has no password (an empty field in /etc/shadow, line 2)"
            ),
            "{}",
            found[0]
        );
        assert!(
            found[1].starts_with(
                "account `old` has no password (an empty field in /etc/passwd, line 3)"
            ),
            "{}",
            found[1]
        );
    }

    #[test]
    fn does_not_catch_locked_or_hashed_accounts() {
        let facts = with_filesystem(|fs| {
            fs.account(
                "/etc/shadow",
                "root:!:19000::::::\nbin:*:19000::::::\nsvc:!!:19000::::::\nalice:$6$salt$hash:19000::::::\nbob:!$6$salt$hash:19000::::::\n",
            );
            fs.account(
                "/etc/passwd",
                "root:x:0:0::/root:/bin/sh\n# comment\n+::::::\n",
            );
        });
        assert_eq!(messages_with(&RULE, &facts, &[]), Vec::<String>::new());
    }
}
