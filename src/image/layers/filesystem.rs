//! The facts layer rules read: each layer's summary, the final filesystem after whiteouts,
//! every secret seen in any layer (and what later layers did to it), and the account files.
//!
//! [`FileSystem::assemble`] applies verified layers in order, as overlayfs and Docker's
//! unpacker do: a layer's whiteouts (`.wh.NAME` deletes NAME, `.wh..wh..opq` hides everything
//! a lower layer put in the directory) apply to the layers below it only, then its entries are
//! added in archive order (a later entry at a path wins). A directory over a directory merges;
//! anything else at a path replaces what was there, a directory's whole tree included.

use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

use super::read::{Change, LayerContents};

/// The files whose whole contents (up to [`ACCOUNT_FILE_MAX`]) are kept, as they are in the
/// final filesystem: rules parse them for users, groups and password hashes.
pub const ACCOUNT_FILES: [&str; 3] = ["/etc/passwd", "/etc/group", "/etc/shadow"];
/// The most bytes of an account file kept; more is noted as truncated.
pub const ACCOUNT_FILE_MAX: usize = 1024 * 1024;

/// An image's filesystem, read from its layers (`None` on [`crate::image::PlatformImage`]
/// when no enabled rule needs layers).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FileSystem {
    /// Index 0 is the base layer.
    pub layers: Vec<LayerSummary>,
    /// The final filesystem, after whiteouts: absolute normalised paths (`/etc/passwd`),
    /// directories included as the layers list them.
    pub files: BTreeMap<String, FileEntry>,
    /// Every secret found in any layer's files, in layer and archive order, including those a
    /// later layer deleted or overwrote (they are still in the image's blobs).
    pub secrets: Vec<LayerSecret>,
    /// `/etc/passwd`, `/etc/group` and `/etc/shadow` as the final filesystem has them, when
    /// they are regular files there (a link is an entry in `files`, never followed).
    pub account_files: BTreeMap<String, AccountFile>,
}

/// One layer, as read and verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LayerSummary {
    /// The digest of the blob as stored (compressed); for a legacy `docker save` archive
    /// layer, the digest its manifest gives it.
    pub digest: String,
    /// The digest of the uncompressed tar, verified against the config's `rootfs.diff_ids`.
    pub diff_id: String,
    pub media_type: String,
    /// Entries in the layer's tar (whiteouts included).
    pub files: u64,
    pub uncompressed_bytes: u64,
}

/// A file of the final filesystem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileEntry {
    /// The layer that put it there (index into [`FileSystem::layers`]).
    pub layer: usize,
    pub kind: FileKind,
    /// Permission bits, setuid (0o4000), setgid (0o2000) and sticky (0o1000) included.
    pub mode: u32,
    /// Bytes of a regular file (0 for the other kinds).
    pub size: u64,
    pub uid: u64,
    pub gid: u64,
    /// A symbolic link's target as written; a hard link's target, normalised like paths.
    pub link: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum FileKind {
    Regular,
    Directory,
    Symlink,
    HardLink,
    /// A device, a FIFO, or a type no unpacker knows.
    Other,
}

/// A secret seen in a layer's file: what and where, never its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LayerSecret {
    pub layer: usize,
    pub path: String,
    /// What was found, as [`crate::secrets::Hit::kind`] says (`a GitHub token`, …).
    pub kind: &'static str,
    /// The line it is on, from 1.
    pub line: usize,
    pub fate: Fate,
}

/// What later layers did to the file a secret was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Fate {
    /// The file is in the final filesystem as that layer wrote it.
    Present,
    /// Deleted by this layer: a whiteout of it or of a directory above it, an opaque
    /// directory above it, or a file that replaced a directory above it.
    DeletedBy(usize),
    /// Replaced by a new entry at the same path in this layer (which may be its own layer,
    /// when an archive holds the path twice).
    OverwrittenBy(usize),
}

/// An account file's contents, at most [`ACCOUNT_FILE_MAX`] bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountFile {
    pub layer: usize,
    pub bytes: Vec<u8>,
    /// Whether the file is larger than what is kept.
    pub truncated: bool,
}

impl FileSystem {
    /// The filesystem an image's verified layers make, base layer first.
    pub(crate) fn assemble(layers: &[&LayerContents]) -> FileSystem {
        let mut state = Assembly::default();
        for (index, layer) in layers.iter().enumerate() {
            state.apply(index, layer);
        }
        let Assembly {
            files,
            secrets,
            accounts,
            ..
        } = state;
        FileSystem {
            layers: layers.iter().map(|l| l.summary.clone()).collect(),
            files,
            secrets,
            account_files: accounts.into_iter().collect(),
        }
    }
}

#[derive(Default)]
struct Assembly {
    files: BTreeMap<String, FileEntry>,
    secrets: Vec<LayerSecret>,
    /// Paths whose current entry has secrets: indices into `secrets`.
    live_secrets: HashMap<String, Vec<usize>>,
    /// Account files as the current entries at their paths have them.
    accounts: HashMap<String, AccountFile>,
}

impl Assembly {
    fn apply(&mut self, index: usize, layer: &LayerContents) {
        // Whiteouts first: they hide what the layers below put there, not this layer's files.
        for change in &layer.changes {
            match change {
                Change::Whiteout(path) => self.remove_tree(path, true, Fate::DeletedBy(index)),
                Change::Opaque(dir) => self.remove_tree(dir, false, Fate::DeletedBy(index)),
                Change::Add { .. } => {}
            }
        }
        let mut secrets = layer.secrets.iter().peekable();
        let mut captures = layer.captures.iter().peekable();
        for (position, change) in layer.changes.iter().enumerate() {
            let Change::Add { path, entry } = change else {
                continue;
            };
            self.replace(index, path, entry.kind == FileKind::Directory);
            self.files.insert(
                path.clone(),
                FileEntry {
                    layer: index,
                    ..entry.clone()
                },
            );
            while let Some(found) = secrets.next_if(|s| s.change == position) {
                self.live_secrets
                    .entry(path.clone())
                    .or_default()
                    .push(self.secrets.len());
                self.secrets.push(LayerSecret {
                    layer: index,
                    path: path.clone(),
                    kind: found.kind,
                    line: found.line,
                    fate: Fate::Present,
                });
            }
            if let Some(capture) = captures.next_if(|c| c.change == position) {
                self.accounts.insert(
                    path.clone(),
                    AccountFile {
                        layer: index,
                        bytes: capture.bytes.clone(),
                        truncated: capture.truncated,
                    },
                );
            }
        }
    }

    /// Makes room for a new entry at `path` from layer `index`.
    fn replace(&mut self, index: usize, path: &str, is_dir: bool) {
        // A lower non-directory where this entry needs a directory is replaced by one.
        for ancestor in ancestors(path) {
            if self
                .files
                .get(ancestor)
                .is_some_and(|e| e.kind != FileKind::Directory)
            {
                self.remove_tree(ancestor, true, Fate::OverwrittenBy(index));
            }
        }
        // Anything but a directory replaces a directory's whole tree (listed or implied by
        // the paths below it); a directory over a directory merges.
        if !is_dir {
            self.remove_tree(path, false, Fate::DeletedBy(index));
        }
        let merges = is_dir
            && self
                .files
                .get(path)
                .is_some_and(|e| e.kind == FileKind::Directory);
        if !merges {
            self.end(path, Fate::OverwrittenBy(index));
        }
    }

    /// Removes `root` (if `inclusive`) and everything below it.
    fn remove_tree(&mut self, root: &str, inclusive: bool, fate: Fate) {
        let prefix = if root == "/" {
            "/".to_string()
        } else {
            format!("{root}/")
        };
        let below: Vec<String> = self
            .files
            .range(prefix.clone()..)
            .take_while(|(path, _)| path.starts_with(&prefix))
            .filter(|(path, _)| path.as_str() != root)
            .map(|(path, _)| path.clone())
            .collect();
        for path in below {
            self.files.remove(&path);
            self.end(&path, fate);
        }
        if inclusive && self.files.remove(root).is_some() {
            self.end(root, fate);
        }
    }

    /// The entry at `path` is gone: its secrets get their fate, its account file is dropped.
    fn end(&mut self, path: &str, fate: Fate) {
        if let Some(indices) = self.live_secrets.remove(path) {
            for i in indices {
                if let Some(secret) = self.secrets.get_mut(i) {
                    secret.fate = fate;
                }
            }
        }
        self.accounts.remove(path);
    }
}

/// `/a/b/c` → `/a`, `/a/b` (not `/`, not the path itself).
fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    path.match_indices('/')
        .map(|(i, _)| i)
        .filter(|&i| i > 0)
        .map(move |i| &path[..i])
}
