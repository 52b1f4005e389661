//! A full run with every kind of secret configured (LLM key from an
//! owner-only file, Slack signing secret and bot token, webhook token, API
//! tokens good and bad), driven over real sockets with logging at its most
//! verbose: no secret may appear in anything the processes print.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

const LLM_KEY: &str = "sk-test-llm-5b0d7e2a9c41f3";
const SIGNING_SECRET: &str = "slack-signing-7f3e91c4d2a8";
const BOT_TOKEN: &str = "xoxb-test-bot-93c1a7e5f20d";
const WEBHOOK_TOKEN: &str = "webhook-test-2e8b6d4f0a13";
const WRONG_TOKEN: &str = "oc_wrong_6c2f9e1b8d3a";

fn incident() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("evals/incidents/key-rotation-stale-jwks/data")
}

fn oncall(home: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_oncall"));
    command
        .env("ONCALL_HOME", home)
        .env("ONCALL_LOG", "trace")
        .env_remove("DATABASE_URL");
    // Only what this test sets: a secret from the caller's environment
    // (or its `_FILE`) would clash with it.
    for name in [
        "ONCALL_LLM_API_KEY",
        "SLACK_SIGNING_SECRET",
        "SLACK_BOT_TOKEN",
    ] {
        command.env_remove(name).env_remove(format!("{name}_FILE"));
    }
    command
}

/// An endpoint that answers everything with a 500 after reading the
/// request: the LLM and Slack API stand-in, so keys are really sent.
fn failing_endpoint() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || answer_500(stream));
        }
    });
    format!("http://{address}")
}

fn answer_500(stream: TcpStream) {
    let mut reader = BufReader::new(stream);
    let mut length = 0;
    let mut line = String::new();
    while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
        if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = value.trim().parse().unwrap_or(0);
        }
        line.clear();
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    let _ = reader.get_mut().write_all(
        b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
    );
}

/// One HTTP/1.1 request; returns the status code.
fn request(base: &str, method: &str, path: &str, headers: &[(&str, String)], body: &str) -> u16 {
    exchange(base, method, path, headers, body).0
}

/// Sends one request; the status and the response body.
fn exchange(
    base: &str,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &str,
) -> (u16, String) {
    let address = base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).expect("connect");
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nhost: {address}\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    stream
        .write_all(format!("{head}\r\n{body}").as_bytes())
        .expect("send");
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or_default();
    (status, body)
}

fn slack_signed(body: &str) -> Vec<(&'static str, String)> {
    let timestamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
        .to_string();
    let signature = web::slack_signature(SIGNING_SECRET, &timestamp, body.as_bytes());
    vec![
        ("content-type", "application/x-www-form-urlencoded".into()),
        ("x-slack-request-timestamp", timestamp),
        ("x-slack-signature", signature),
    ]
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn no_secret_reaches_the_logs_of_a_full_run() {
    let home = tempfile::tempdir().expect("tempdir");
    let logs = tempfile::tempdir().expect("tempdir");
    let key_file = home.path().join("llm.key");
    std::fs::write(&key_file, format!("{LLM_KEY}\n")).expect("key file");
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let endpoint = failing_endpoint();
    let mut printed = String::new();

    let ingest = oncall(home.path())
        .arg("ingest")
        .arg(incident())
        .output()
        .expect("ingest");
    printed.push_str(&String::from_utf8_lossy(&ingest.stderr));
    let created = oncall(home.path())
        .args(["token", "create", "--name", "ci", "--role", "admin"])
        .output()
        .expect("token create");
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    // The token is printed once, to its creator, on stdout: that is its
    // only appearance allowed.
    let token = String::from_utf8_lossy(&created.stdout)
        .split_whitespace()
        .find(|word| word.starts_with("oc_"))
        .expect("the new token is printed")
        .to_string();
    printed.push_str(&String::from_utf8_lossy(&created.stderr));

    let log_path = logs.path().join("serve.log");
    let log = std::fs::File::create(&log_path).expect("log file");
    let mut child = oncall(home.path())
        .args([
            "serve",
            "--port",
            "0",
            "--auth",
            "tokens",
            "--rate-limit",
            "0",
        ])
        .args([
            "--llm",
            "openai",
            "--llm-url",
            &format!("{endpoint}/v1"),
            "--llm-timeout",
            "5",
        ])
        .args(["--slack-api-base", &endpoint])
        .args(["--slack-response-host", "127.0.0.1"])
        .env("ONCALL_LLM_API_KEY_FILE", &key_file)
        .env("SLACK_SIGNING_SECRET", SIGNING_SECRET)
        .env("SLACK_BOT_TOKEN", BOT_TOKEN)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve starts");
    let stderr = child.stderr.take().expect("stderr");
    let server = Server(child);
    let (url_sender, url_receiver) = std::sync::mpsc::channel();
    let copier = std::thread::spawn(move || {
        let mut log = log;
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("oncall listening on ") {
                let _ = url_sender.send(url.trim().to_string());
            }
            let _ = writeln!(log, "{line}");
        }
    });
    let base = url_receiver
        .recv_timeout(std::time::Duration::from_secs(120))
        .expect("the server listens");

    let bearer = |t: &str| vec![("authorization", format!("Bearer {t}"))];
    let json = |t: &str| {
        vec![
            ("authorization", format!("Bearer {t}")),
            ("content-type", "application/json".to_string()),
        ]
    };
    assert_eq!(
        request(&base, "GET", "/api/search?q=401", &bearer(&token), ""),
        200
    );
    assert_eq!(
        request(&base, "GET", "/api/search?q=401", &bearer(WRONG_TOKEN), ""),
        401
    );
    let question = r#"{"question":"Why are users getting 401s since 14:05?"}"#;
    assert_eq!(
        request(&base, "POST", "/api/ask", &json(&token), question),
        200
    );
    let hook_link = format!(r#"{{"channel":"webhook:C2","webhook_token":"{WEBHOOK_TOKEN}"}}"#);
    assert_eq!(
        request(&base, "PUT", "/api/channels", &json(&token), &hook_link),
        204
    );
    let (status, claim) = exchange(
        &base,
        "PUT",
        "/api/channels",
        &json(&token),
        r#"{"channel":"slack:T1:C1"}"#,
    );
    assert_eq!(status, 202, "{claim}");
    let claim: serde_json::Value = serde_json::from_str(&claim).expect("claim json");
    let code = claim["code"].as_str().expect("code");
    let response_url = endpoint.replace(':', "%3A").replace('/', "%2F");
    let link = format!("team_id=T1&channel_id=C1&text=link+{code}&response_url={response_url}");
    assert_eq!(
        request(
            &base,
            "POST",
            "/slack/commands",
            &slack_signed(&link),
            &link
        ),
        200
    );
    let command =
        format!("team_id=T1&channel_id=C1&text=why+are+logins+failing&response_url={response_url}");
    assert_eq!(
        request(
            &base,
            "POST",
            "/slack/commands",
            &slack_signed(&command),
            &command
        ),
        200
    );
    let mut forged = slack_signed(&command);
    forged[2].1 = "v0=0000".into();
    assert_eq!(
        request(&base, "POST", "/slack/commands", &forged, &command),
        401
    );
    let form = [(
        "content-type",
        "application/x-www-form-urlencoded".to_string(),
    )];
    let hook = format!("token={WEBHOOK_TOKEN}&channel_id=C2&text=why+401");
    assert_eq!(request(&base, "POST", "/chat/webhook", &form, &hook), 200);
    let bad_hook = format!("token={WRONG_TOKEN}&channel_id=C2&text=why+401");
    assert_eq!(
        request(&base, "POST", "/chat/webhook", &form, &bad_hook),
        401
    );
    // The slash command is answered in the background: let it reach the
    // (failing) LLM and the response URL before the server stops.
    std::thread::sleep(std::time::Duration::from_secs(3));
    drop(server);
    copier.join().expect("log copied");
    printed.push_str(&std::fs::read_to_string(&log_path).expect("log"));

    assert!(
        printed.lines().count() > 50,
        "the run logged at trace level"
    );
    for secret in [
        LLM_KEY,
        SIGNING_SECRET,
        BOT_TOKEN,
        WEBHOOK_TOKEN,
        WRONG_TOKEN,
        &token,
    ] {
        assert!(!printed.contains(secret), "a secret was logged: {secret}");
    }
    let secret_part = token.trim_start_matches("oc_");
    assert!(
        !printed.contains(secret_part),
        "part of the API token was logged"
    );
}
