//! The UI in a real browser: `oncall serve` over the bundled incident,
//! driven by headless Chromium (tests/browser/journey.cjs). Screenshots of
//! each page land in `target/screenshots/`.
//!
//! Needs Debian's chromium and playwright-core from npm, which
//! `scripts/setup-browser` installs and `scripts/test` runs; elsewhere the
//! test says it is skipped, unless ONCALL_REQUIRE_BROWSER is set.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// Kills the server however the test ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn playwright_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var_os("ONCALL_BROWSER_DIR")?);
    let ready = dir
        .join("node_modules/playwright-core/package.json")
        .is_file()
        && Path::new("/usr/bin/chromium").is_file();
    ready.then_some(dir)
}

fn oncall(home: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_oncall"));
    command
        .env("ONCALL_HOME", home)
        .env("ONCALL_LLM", "off")
        .env_remove("DATABASE_URL");
    command
}

/// Starts the server on a free port; returns it with its base URL.
fn serve(home: &Path) -> (Server, String) {
    let mut child = oncall(home)
        .args(["serve", "--port", "0"])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("oncall serve starts");
    let stderr = child.stderr.take().expect("stderr");
    let server = Server(child);
    for line in BufReader::new(stderr).lines() {
        let line = line.expect("server output");
        if let Some(url) = line.strip_prefix("oncall listening on ") {
            return (server, url.trim().to_string());
        }
    }
    panic!("the server stopped before listening");
}

#[test]
fn an_engineer_asks_sees_the_streamed_answer_and_opens_timeline_and_metrics() {
    let Some(playwright) = playwright_dir() else {
        assert!(
            std::env::var_os("ONCALL_REQUIRE_BROWSER").is_none(),
            "ONCALL_REQUIRE_BROWSER is set but chromium or playwright-core is missing"
        );
        eprintln!(
            "skipping the browser test: run scripts/setup-browser and set ONCALL_BROWSER_DIR to the folder it prints"
        );
        return;
    };
    let home = tempfile::tempdir().expect("tempdir");
    let case = evals::Case::load(&evals::bundled_incident_dir()).expect("bundled incident");
    let status = oncall(home.path())
        .arg("ingest")
        .arg(&case.data)
        .stdout(Stdio::null())
        .status()
        .expect("ingest runs");
    assert!(
        matches!(status.code(), Some(0 | 3)),
        "ingest failed: {status}"
    );
    let (_server, url) = serve(home.path());
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&shots).expect("screenshot folder");
    let output = Command::new("node")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/journey.cjs"))
        .arg(&url)
        .arg(&shots)
        .arg(&case.truth.question)
        .env("NODE_PATH", playwright.join("node_modules"))
        .output()
        .expect("node runs");
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    eprintln!("{log}");
    assert!(output.status.success(), "browser journey failed:\n{log}");
    for page in ["ask", "record", "timeline", "search", "insights", "sources"] {
        let png = shots.join(format!("{page}.png"));
        let size = std::fs::metadata(&png).map(|m| m.len()).unwrap_or(0);
        assert!(size > 10_000, "{} is a real screenshot", png.display());
    }
}
