use std::path::Path;

use serde_json::Value;

use crate::error::{AgentError, Result};
use crate::llm_client::ToolSpec;
use crate::toolbox::TOOL_NAMES;

/// One version of every prompt the LLM path uses, loaded at start.
#[derive(Clone, Debug)]
pub struct Prompts {
    /// `v1`, `v2`, ...: recorded in every answer.
    pub version: String,
    /// Role, evidence rules, and that tool results are data.
    pub system: String,
    /// The tools the model may call.
    pub tools: Vec<ToolSpec>,
    /// How to ask for a tool in schema-constrained JSON steps.
    pub step: String,
    /// The answer format.
    pub answer: String,
    /// JSON schema of the final answer.
    pub answer_schema: Value,
    /// How to draft the remediation.
    pub remediation: String,
    /// How the model checks claims against their records.
    pub faithfulness: String,
}

/// The files of one prompt set, by purpose and extension.
const FILES: [(&str, &str); 7] = [
    ("system", "md"),
    ("tools", "json"),
    ("step", "md"),
    ("answer", "md"),
    ("answer", "schema.json"),
    ("remediation", "md"),
    ("faithfulness", "md"),
];

impl Prompts {
    /// The `v1` set compiled into the binary from `prompts/`.
    pub fn bundled() -> Result<Self> {
        let texts = [
            include_str!("../../prompts/system.v1.md"),
            include_str!("../../prompts/tools.v1.json"),
            include_str!("../../prompts/step.v1.md"),
            include_str!("../../prompts/answer.v1.md"),
            include_str!("../../prompts/answer.v1.schema.json"),
            include_str!("../../prompts/remediation.v1.md"),
            include_str!("../../prompts/faithfulness.v1.md"),
        ];
        Self::from_texts("v1", texts.map(str::to_string))
    }

    /// The set `version` from `dir` (`system.<version>.md`, ...).
    pub fn load(dir: &Path, version: &str) -> Result<Self> {
        let mut texts: [String; 7] = Default::default();
        for (text, (name, extension)) in texts.iter_mut().zip(FILES) {
            let path = dir.join(format!("{name}.{version}.{extension}"));
            *text = std::fs::read_to_string(&path).map_err(|e| AgentError::Prompt {
                name: path.display().to_string(),
                reason: e.to_string(),
            })?;
        }
        Self::from_texts(version, texts)
    }

    fn from_texts(version: &str, texts: [String; 7]) -> Result<Self> {
        let [
            system,
            tools,
            step,
            answer,
            answer_schema,
            remediation,
            faithfulness,
        ] = texts;
        let malformed = |name: &str, reason: String| AgentError::Prompt {
            name: format!("{name}.{version}"),
            reason,
        };
        let tools: Vec<ToolSpec> =
            serde_json::from_str(&tools).map_err(|e| malformed("tools", e.to_string()))?;
        let mut described: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
        described.sort_unstable();
        let mut known = TOOL_NAMES.to_vec();
        known.sort_unstable();
        if described != known {
            return Err(malformed(
                "tools",
                format!("describes {described:?}, the agent has {known:?}"),
            ));
        }
        let answer_schema = serde_json::from_str(&answer_schema)
            .map_err(|e| malformed("answer.schema", e.to_string()))?;
        Ok(Prompts {
            version: version.to_string(),
            system,
            tools,
            step,
            answer,
            answer_schema,
            remediation,
            faithfulness,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_set_loads_and_matches_the_files() {
        let bundled = Prompts::bundled().expect("bundled prompts");
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../prompts");
        let loaded = Prompts::load(&dir, "v1").expect("prompts from disk");
        assert_eq!(bundled.version, "v1");
        assert_eq!(bundled.system, loaded.system);
        assert_eq!(bundled.tools, loaded.tools);
        assert_eq!(bundled.tools.len(), TOOL_NAMES.len());
    }

    #[test]
    fn a_set_that_does_not_describe_the_agents_tools_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../prompts");
        for (name, extension) in FILES {
            let file = format!("{name}.v1.{extension}");
            std::fs::copy(
                source.join(&file),
                dir.path().join(file.replace("v1", "v9")),
            )
            .expect("copy");
        }
        assert!(Prompts::load(dir.path(), "v9").is_ok());
        std::fs::write(
            dir.path().join("tools.v9.json"),
            r#"[{"name": "search", "description": "d", "parameters": {}}]"#,
        )
        .expect("write");
        let error = Prompts::load(dir.path(), "v9").expect_err("tools missing");
        assert!(error.to_string().contains("tools.v9"), "{error}");
        assert!(Prompts::load(dir.path(), "v7").is_err(), "no such version");
    }
}
