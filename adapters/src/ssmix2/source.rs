//! Reading an SS-MIX2 tree from disk: the walk that lists its message files and reads them.
//! This is the only part of the SS-MIX2 adapter that does IO. A file that cannot be used (a
//! name that is not an SS-MIX2 name, an unreadable folder, a symbolic link) is a problem with
//! its reason, never the end of the walk.

use super::file_name::FileName;
use super::layout::check_layout;
use super::plan::{PlanFinding, StoredFile};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Bounds on one walk.
#[derive(Debug, Clone, Copy)]
pub struct TreeLimits {
    /// Most files listed (the rest are one problem).
    pub max_files: usize,
    /// Deepest folder followed below the root (the standard layout is 5).
    pub max_depth: usize,
    /// Largest message file read.
    pub max_file_bytes: u64,
}

impl Default for TreeLimits {
    fn default() -> Self {
        TreeLimits {
            max_files: 10_000_000,
            max_depth: 12,
            max_file_bytes: 64 << 20,
        }
    }
}

/// What a walk found.
#[derive(Debug, Default)]
pub struct Tree {
    /// Every file with an SS-MIX2 name.
    pub files: Vec<StoredFile>,
    /// Files that were not listed, and folders that could not be read, with why.
    pub problems: Vec<PlanFinding>,
    /// Files listed although their folders disagree with their names.
    pub layout: Vec<PlanFinding>,
}

/// Why a walk could not start.
#[derive(Debug, thiserror::Error)]
pub enum TreeError {
    /// The root is not a readable folder.
    #[error("{path}: not a readable folder: {source}")]
    Root {
        /// The root given.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
}

/// Lists the message files under `root`.
pub fn walk(root: &Path, limits: &TreeLimits) -> Result<Tree, TreeError> {
    let entries = fs::read_dir(root).map_err(|source| TreeError::Root {
        path: root.to_path_buf(),
        source,
    })?;
    let mut tree = Tree::default();
    let mut pending: Vec<(Vec<String>, fs::ReadDir)> = vec![(Vec::new(), entries)];
    while let Some((folders, entries)) = pending.pop() {
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(error) => {
                    tree.problems.push(problem(&folders, "", error.to_string()));
                    continue;
                }
            };
            let name = entry.file_name().to_string_lossy().into_owned();
            let kind = match entry.file_type() {
                Ok(kind) => kind,
                Err(error) => {
                    tree.problems
                        .push(problem(&folders, &name, error.to_string()));
                    continue;
                }
            };
            if kind.is_dir() {
                if folders.len() >= limits.max_depth {
                    tree.problems.push(problem(
                        &folders,
                        &name,
                        format!("deeper than {} folders: not read", limits.max_depth),
                    ));
                    continue;
                }
                match fs::read_dir(entry.path()) {
                    Ok(inner) => {
                        let mut inner_folders = folders.clone();
                        inner_folders.push(name);
                        pending.push((inner_folders, inner));
                    }
                    Err(error) => tree
                        .problems
                        .push(problem(&folders, &name, error.to_string())),
                }
            } else if !kind.is_file() {
                tree.problems.push(problem(
                    &folders,
                    &name,
                    "not a regular file (symbolic links are not followed)".into(),
                ));
            } else if tree.files.len() >= limits.max_files {
                tree.problems.push(problem(
                    &folders,
                    &name,
                    format!("more than {} files: not read", limits.max_files),
                ));
            } else {
                add_file(&mut tree, folders.clone(), name);
            }
        }
    }
    tree.files.sort_by(|a, b| a.path.cmp(&b.path));
    tree.problems.sort_by(|a, b| a.path.cmp(&b.path));
    tree.layout.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(tree)
}

fn add_file(tree: &mut Tree, folders: Vec<String>, name: String) {
    let path = joined(&folders, &name);
    match FileName::parse(&name) {
        Ok(parsed) => {
            let folder_names: Vec<&str> = folders.iter().map(String::as_str).collect();
            for message in check_layout(&folder_names, &parsed) {
                tree.layout.push(PlanFinding {
                    path: path.clone(),
                    message,
                });
            }
            tree.files.push(StoredFile { path, name: parsed });
        }
        Err(error) => tree.problems.push(PlanFinding {
            path,
            message: format!("not an SS-MIX2 file name: {error}"),
        }),
    }
}

fn joined(folders: &[String], name: &str) -> String {
    let mut path = folders.join("/");
    if !name.is_empty() {
        if !path.is_empty() {
            path.push('/');
        }
        path.push_str(name);
    }
    path
}

fn problem(folders: &[String], name: &str, message: String) -> PlanFinding {
    PlanFinding {
        path: joined(folders, name),
        message,
    }
}

/// Reads the file at `path` (relative to `root`) if it is at most `max_bytes` long.
pub fn read_file(root: &Path, path: &str, max_bytes: u64) -> std::io::Result<Vec<u8>> {
    let file = fs::File::open(root.join(path))?;
    let mut bytes = Vec::new();
    file.take(max_bytes + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max_bytes {
        return Err(std::io::Error::other(format!(
            "larger than {max_bytes} bytes: not read"
        )));
    }
    Ok(bytes)
}
