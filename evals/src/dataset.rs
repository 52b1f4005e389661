//! Datasets: versioned JSONL, one case per line, each naming where its
//! corpus and ground truth come from and which split it belongs to.
//!
//! ```text
//! {"version":1,"split":"dev","case":"../incidents/key-rotation-stale-jwks"}
//! {"version":1,"split":"test","generate":{"family":"dns-misroute","seed":3,"lines":6000}}
//! ```
//!
//! A `case` is a folder (relative to the dataset file) holding `data/` and
//! `truth.json`: drop a folder of real logs and a truth file beside a
//! dataset line and it is evaluated unchanged.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{EvalError, Result};
use crate::generator::{Family, GenOptions, generate};
use crate::ground_truth::Case;

/// The dataset format version this build reads.
pub const DATASET_VERSION: u32 = 1;

/// Which part of a dataset a case belongs to: tune on dev, report on test.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// For development and tuning.
    Dev,
    /// Held out for reporting.
    Test,
}

impl Split {
    /// Parses `dev` or `test`.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "dev" => Some(Split::Dev),
            "test" => Some(Split::Test),
            _ => None,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    version: u32,
    split: Split,
    case: Option<PathBuf>,
    generate: Option<Generate>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Generate {
    family: String,
    seed: u64,
    #[serde(default = "default_lines")]
    lines: usize,
}

fn default_lines() -> usize {
    6000
}

/// A case ready to run: its split and its folder.
#[derive(Clone, Debug)]
pub struct DatasetCase {
    /// Dev or test.
    pub split: Split,
    /// The loaded case.
    pub case: Case,
}

/// The dataset shipped with the product: the bundled incident and five
/// seeds of every generated family (seeds 1-2 dev, 3-5 test).
pub fn default_dataset() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/default.jsonl")
}

/// Loads the cases of `path` in `split` (all when `None`), generating
/// generator cases under `scratch`.
pub fn load_dataset(path: &Path, split: Option<Split>, scratch: &Path) -> Result<Vec<DatasetCase>> {
    let text = std::fs::read_to_string(path).map_err(|e| EvalError::io(path, e))?;
    let base = path.parent().unwrap_or(Path::new("."));
    let bad = |line: usize, reason: String| EvalError::BadCase {
        path: path.to_path_buf(),
        reason: format!("line {line}: {reason}"),
    };
    let mut cases = Vec::new();
    for (index, raw) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let line: Line = serde_json::from_str(raw).map_err(|e| bad(index + 1, e.to_string()))?;
        if line.version != DATASET_VERSION {
            return Err(bad(
                index + 1,
                format!(
                    "version {} (this build reads {DATASET_VERSION})",
                    line.version
                ),
            ));
        }
        if split.is_some_and(|wanted| wanted != line.split) {
            continue;
        }
        let case = match (line.case, line.generate) {
            (Some(folder), None) => Case::load(&base.join(folder))?,
            (None, Some(spec)) => {
                let family = Family::from_name(&spec.family)
                    .ok_or_else(|| bad(index + 1, format!("unknown family {:?}", spec.family)))?;
                let dir = scratch.join(format!("{}-{}", spec.family, spec.seed));
                generate(
                    &dir,
                    &GenOptions {
                        family,
                        seed: spec.seed,
                        background_lines: spec.lines,
                        tenant: "default".into(),
                    },
                )?;
                Case::load(&dir)?
            }
            _ => return Err(bad(index + 1, "exactly one of `case` or `generate`".into())),
        };
        cases.push(DatasetCase {
            split: line.split,
            case,
        });
    }
    Ok(cases)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_dataset_has_forty_cases_or_more_in_two_splits() {
        let text = std::fs::read_to_string(default_dataset()).expect("dataset");
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("json"))
            .collect();
        assert!(lines.len() >= 40);
        let test = lines.iter().filter(|l| l["split"] == "test").count();
        assert!(test >= 20 && test < lines.len());
    }

    #[test]
    fn malformed_lines_name_their_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("d.jsonl");
        std::fs::write(
            &path,
            "{\"version\":1,\"split\":\"dev\",\"generate\":{\"family\":\"nope\",\"seed\":1}}\n",
        )
        .expect("write");
        let error = load_dataset(&path, None, dir.path()).expect_err("unknown family");
        assert!(error.to_string().contains("line 1"), "{error}");
        std::fs::write(&path, "{\"version\":2,\"split\":\"dev\",\"case\":\"x\"}\n").expect("write");
        assert!(load_dataset(&path, None, dir.path()).is_err());
    }
}
