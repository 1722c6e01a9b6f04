//! The account files of an image's final filesystem (`/etc/passwd`, `/etc/group`,
//! `/etc/shadow`), read once for every rule that judges users: `account-without-password`,
//! `duplicate-account-id` and `non-root-user`.
//!
//! Lines are read as glibc's `fgetpwent` reads them: colon-separated fields, blank lines and
//! `#` comments skipped, a line with too few fields ignored. NIS compat entries (`+`, `-`)
//! name no account of their own and are skipped.

use crate::image::layers::FileSystem;

/// One `/etc/passwd` (or `/etc/group`) entry: a name and its numeric id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub name: String,
    /// `None` when the field is not a number (the runtime could not use it either).
    pub id: Option<u64>,
    /// The primary group (`/etc/passwd` only).
    pub gid: Option<u64>,
    /// The password field as written (`x`: see `/etc/shadow`; empty: no password).
    pub password: String,
    /// The line, from 1.
    pub line: usize,
}

/// One `/etc/shadow` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shadow {
    pub name: String,
    /// The password field as written: empty means no password at all.
    pub password: String,
    pub line: usize,
}

/// The account files an image has, parsed; `None` for each it has not.
#[derive(Debug, Default)]
pub struct Accounts {
    pub passwd: Option<Vec<Account>>,
    pub group: Option<Vec<Account>>,
    pub shadow: Option<Vec<Shadow>>,
    /// Files kept only in part (over the reader's cap): what is read is judged, and noted.
    pub truncated: Vec<&'static str>,
}

impl Accounts {
    pub fn of(filesystem: &FileSystem) -> Accounts {
        let mut accounts = Accounts::default();
        for (path, file) in &filesystem.account_files {
            let text = String::from_utf8_lossy(&file.bytes);
            let name: &'static str = match path.as_str() {
                "/etc/passwd" => "/etc/passwd",
                "/etc/group" => "/etc/group",
                "/etc/shadow" => "/etc/shadow",
                _ => continue,
            };
            if file.truncated {
                accounts.truncated.push(name);
            }
            match name {
                "/etc/passwd" => accounts.passwd = Some(ids(&text, true)),
                "/etc/group" => accounts.group = Some(ids(&text, false)),
                _ => accounts.shadow = Some(shadow(&text)),
            }
        }
        accounts
    }
}

/// Entries of the lines of an account file, with their line numbers.
fn entries(text: &str) -> impl Iterator<Item = (usize, Vec<&str>)> {
    text.lines().enumerate().filter_map(|(i, line)| {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') || line.starts_with(['+', '-']) {
            return None;
        }
        Some((i + 1, line.split(':').collect()))
    })
}

fn ids(text: &str, passwd: bool) -> Vec<Account> {
    let fields = if passwd { 7 } else { 4 };
    entries(text)
        .filter(|(_, f)| f.len() >= fields && !f[0].is_empty())
        .map(|(line, f)| Account {
            name: f[0].to_string(),
            id: f[2].parse().ok(),
            gid: if passwd { f[3].parse().ok() } else { None },
            password: f[1].to_string(),
            line,
        })
        .collect()
}

fn shadow(text: &str) -> Vec<Shadow> {
    entries(text)
        .filter(|(_, f)| f.len() >= 2 && !f[0].is_empty())
        .map(|(line, f)| Shadow {
            name: f[0].to_string(),
            password: f[1].to_string(),
            line,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_entries_as_glibc_does() {
        let passwd = ids(
            "root:x:0:0:root:/root:/bin/bash\n# comment\n\n+nis::::::\napp:x:1000:1000::/home/app:/bin/sh\nshort:x:1\nodd:x:abc:1::/:/bin/sh\r\n",
            true,
        );
        let names: Vec<(&str, Option<u64>, usize)> = passwd
            .iter()
            .map(|a| (a.name.as_str(), a.id, a.line))
            .collect();
        assert_eq!(
            names,
            [
                ("root", Some(0), 1),
                ("app", Some(1000), 5),
                ("odd", None, 7)
            ]
        );
        let group = ids("root:x:0:\nwheel:x:10:app\nbad:x:1\n", false);
        assert_eq!(group.len(), 2);
        let shadow = shadow("root:!:19000:0:99999:7:::\nguest::19000::::::\n");
        assert_eq!(shadow[1].password, "");
        assert_eq!(shadow[1].line, 2);
    }
}
