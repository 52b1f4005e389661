use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tracing::info;

use crate::error::{AgentError, Result};
use crate::llm_client::{LlmConfig, ToolCallMode};

/// Longest wait for the server to load its model and answer `/health`.
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// llama.cpp's `llama-server` with a small GGUF model, run as a child
/// process on loopback and stopped when this value is dropped. Installed by
/// `scripts/setup-local-llm` into a folder holding `bin/llama-server` and
/// `models/*.gguf`.
pub struct LocalLlm {
    child: Child,
    base_url: String,
    model: String,
}

impl LocalLlm {
    /// Starts the server installed in `dir` and waits until it is ready.
    pub fn start(dir: &Path) -> Result<Self> {
        let server = dir.join("bin/llama-server");
        if !server.is_file() {
            return Err(AgentError::LocalLlm(format!(
                "{} is missing: run scripts/setup-local-llm",
                server.display()
            )));
        }
        let model = gguf_in(&dir.join("models"))?;
        let port = free_port()?;
        let child = Command::new(&server)
            .arg("-m")
            .arg(&model)
            .args(["--jinja", "-t", "2", "-c", "8192", "-np", "1"])
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| AgentError::LocalLlm(format!("starting {}: {e}", server.display())))?;
        let name = model
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut local = LocalLlm {
            child,
            base_url: format!("http://127.0.0.1:{port}/v1"),
            model: name,
        };
        local.wait_ready(port)?;
        info!(base_url = %local.base_url, model = %local.model, "local LLM ready");
        Ok(local)
    }

    /// Settings for a 135M-parameter model: schema-constrained JSON steps,
    /// few steps, short completions.
    pub fn config(&self) -> LlmConfig {
        LlmConfig {
            tool_calls: ToolCallMode::Json,
            timeout: Duration::from_secs(180),
            max_retries: 1,
            token_budget: 40_000,
            max_steps: 2,
            max_completion_tokens: 1024,
            ..LlmConfig::new(&self.base_url, &self.model)
        }
    }

    fn wait_ready(&mut self, port: u16) -> Result<()> {
        let started = Instant::now();
        while started.elapsed() < START_TIMEOUT {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(AgentError::LocalLlm(format!(
                    "llama-server exited while starting ({status})"
                )));
            }
            if health_ok(port) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        Err(AgentError::LocalLlm(format!(
            "llama-server not ready after {START_TIMEOUT:?}"
        )))
    }
}

impl Drop for LocalLlm {
    fn drop(&mut self) {
        // Already gone is fine; nothing else can be done about a failed kill.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn gguf_in(dir: &Path) -> Result<PathBuf> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        AgentError::LocalLlm(format!(
            "{}: {e}: run scripts/setup-local-llm",
            dir.display()
        ))
    })?;
    let mut models: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "gguf"))
        .collect();
    models.sort();
    models
        .into_iter()
        .next()
        .ok_or_else(|| AgentError::LocalLlm(format!("no .gguf model in {}", dir.display())))
}

fn free_port() -> Result<u16> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .map_err(|e| AgentError::LocalLlm(format!("no free port: {e}")))
}

/// `GET /health` answers 200 once the model is loaded (503 while loading).
fn health_ok(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream
        .write_all(b"GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.ends_with(b" 200")
}
