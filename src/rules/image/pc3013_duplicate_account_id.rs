use super::accounts::{Account, Accounts};
use crate::finding::{Severity, Span};
use crate::rules::{Check, Diagnostics, ImageContext};
use std::collections::BTreeMap;

crate::declare_rule! {
    /// Two accounts share a UID, or two groups a GID.
    ///
    /// Reads the final filesystem's `/etc/passwd` and `/etc/group` and reports each numeric id
    /// that more than one entry has. A second account with UID 0 (`toor:x:0:0:…`) is root
    /// under another name, a classic backdoor; two services sharing a UID can read and kill
    /// each other's processes and files.
    ///
    /// ## Why
    /// File ownership and process identity are by number, not name: accounts that share one
    /// are one account, whatever a reviewer reading the names believes. Give each its own id.
    /// Peers: dockle's DKL-LI-0002 and DKL-LI-0003.
    ///
    /// ## Example
    /// `toor:x:0:0::/root:/bin/sh` beside `root:x:0:0:…`: `UID 0 is shared by `root` (line 1)
    /// and `toor` (line 9) in /etc/passwd`.
    pub static RULE = Rule {
        id: "PC3013",
        name: "duplicate-account-id",
        severity: Severity::Medium,
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
    for (file, what, entries) in [
        ("/etc/passwd", "UID", &accounts.passwd),
        ("/etc/group", "GID", &accounts.group),
    ] {
        let mut by_id: BTreeMap<u64, Vec<&Account>> = BTreeMap::new();
        for entry in entries.iter().flatten() {
            if let Some(id) = entry.id {
                by_id.entry(id).or_default().push(entry);
            }
        }
        for (id, sharing) in by_id.into_iter().filter(|(_, s)| s.len() > 1) {
            let names: Vec<String> = sharing
                .iter()
                .map(|a| format!("`{}` (line {})", a.name, a.line))
                .collect();
            out.push(
                Span::default(),
                format!(
                    "{what} {id} is shared by {} in {file}; give each its own {what}",
                    names.join(" and ")
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
    fn catches_shared_uids_and_gids() {
        let facts = with_filesystem(|fs| {
            fs.account("/etc/passwd", "root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/app:/bin/sh\ntoor:x:0:0::/root:/bin/sh\n");
            fs.account("/etc/group", "root:x:0:\napp:x:1000:\nstaff:x:1000:\n");
        });
        assert_eq!(
            messages_with(&RULE, &facts, &[]),
            [
                "UID 0 is shared by `root` (line 1) and `toor` (line 3) in /etc/passwd; give each its own UID",
                "GID 1000 is shared by `app` (line 2) and `staff` (line 3) in /etc/group; give each its own GID",
            ]
        );
    }

    #[test]
    fn does_not_catch_distinct_ids_or_a_shared_primary_group() {
        let facts = with_filesystem(|fs| {
            // Two users in one primary group is normal.
            fs.account(
                "/etc/passwd",
                "root:x:0:0::/root:/bin/sh\na:x:1000:100::/:/bin/sh\nb:x:1001:100::/:/bin/sh\n",
            );
            fs.account("/etc/group", "root:x:0:\nusers:x:100:a,b\n");
        });
        assert_eq!(messages_with(&RULE, &facts, &[]), Vec::<String>::new());
    }
}
