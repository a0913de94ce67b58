//! The resume point of a bulk ingest: a small JSON file saying how many steps of which plan
//! are done (stored, or deliberately left out). It is written after every committed batch, by
//! writing a temporary file and renaming it over the old one, so a crash leaves either the old
//! or the new checkpoint. Resuming redoes at most one batch, and redoing is harmless: a message
//! whose raw-message Binary is stored is not written again.

use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// Where an ingest stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The source folder or file, as given.
    pub source: String,
    /// A digest of the plan (every file in order): a changed tree does not resume.
    pub plan: String,
    /// Steps `0..done` are finished.
    pub done: usize,
    /// Steps in the plan.
    pub total: usize,
}

/// A digest of the plan's file list (FNV-1a 64 over the paths in order), stable across
/// builds and platforms.
pub fn plan_digest<'a>(paths: impl IntoIterator<Item = &'a str>) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for path in paths {
        for byte in path.bytes().chain([0u8]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

impl Checkpoint {
    /// Reads a checkpoint file; `Ok(None)` when there is none.
    pub fn load(path: &Path) -> Result<Option<Checkpoint>, String> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(format!("{}: {error}", path.display())),
        };
        let value: Value = serde_json::from_slice(&bytes)
            .map_err(|error| format!("{}: not a checkpoint: {error}", path.display()))?;
        let text = |key: &str| value[key].as_str().map(str::to_owned);
        let number = |key: &str| value[key].as_u64().and_then(|n| usize::try_from(n).ok());
        match (
            text("source"),
            text("plan"),
            number("done"),
            number("total"),
        ) {
            (Some(source), Some(plan), Some(done), Some(total)) if done <= total => {
                Ok(Some(Checkpoint {
                    source,
                    plan,
                    done,
                    total,
                }))
            }
            _ => Err(format!("{}: not a checkpoint", path.display())),
        }
    }

    /// Writes the checkpoint atomically (temporary file, then rename).
    pub fn save(&self, path: &Path) -> Result<(), String> {
        let body = json!({
            "source": self.source,
            "plan": self.plan,
            "done": self.done,
            "total": self.total,
        });
        let mut temporary = PathBuf::from(path);
        temporary.as_mut_os_string().push(".tmp");
        let bytes = serde_json::to_vec_pretty(&body).map_err(|error| error.to_string())?;
        std::fs::write(&temporary, bytes)
            .and_then(|()| std::fs::rename(&temporary, path))
            .map_err(|error| format!("{}: {error}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_loads_and_refuses_garbage() {
        let folder =
            std::env::temp_dir().join(format!("tsunagi-checkpoint-{}", std::process::id()));
        std::fs::create_dir_all(&folder).unwrap();
        let path = folder.join("ingest.checkpoint.json");
        assert_eq!(Checkpoint::load(&path), Ok(None));
        let checkpoint = Checkpoint {
            source: "/data/ssmix2".into(),
            plan: plan_digest(["a", "b"]),
            done: 3,
            total: 9,
        };
        checkpoint.save(&path).unwrap();
        assert_eq!(Checkpoint::load(&path), Ok(Some(checkpoint)));
        std::fs::write(&path, br#"{"source":"x","plan":"y","done":5,"total":4}"#).unwrap();
        assert!(Checkpoint::load(&path).is_err());
        std::fs::remove_dir_all(&folder).unwrap();
        assert_ne!(plan_digest(["a", "b"]), plan_digest(["ab"]));
        assert_ne!(plan_digest(["a", "b"]), plan_digest(["b", "a"]));
    }
}
