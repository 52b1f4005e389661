//! Login round trip against a real OpenID provider on loopback (npm's
//! `oidc-provider`, started by tests/oidc/provider.cjs), then a tampered ID
//! token, a wrong nonce and a foreign audience refused.
//!
//! Needs Node.js and the provider installed by
//! `scripts/setup-oidc-provider` (run by `scripts/test`, which sets
//! ONCALL_OIDC_DIR); elsewhere the test says it is skipped, unless
//! ONCALL_REQUIRE_OIDC is set.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use retrieval::Stores;
use sha2::{Digest, Sha256};

const SECRET: &str = "oncall-test-secret";

struct Provider(Child);

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn provider_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var_os("ONCALL_OIDC_DIR")?);
    dir.join("node_modules/oidc-provider/package.json")
        .is_file()
        .then_some(dir)
}

fn start_provider(dir: &Path, port: u16, redirect: &str) -> Provider {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/oidc/provider.cjs");
    let mut child = Command::new("node")
        .arg(script)
        .arg(port.to_string())
        .arg(redirect)
        .env("NODE_PATH", dir.join("node_modules"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("node starts");
    let stdout = child.stdout.take().expect("stdout");
    let provider = Provider(child);
    for line in BufReader::new(stdout).lines() {
        if line
            .expect("provider output")
            .starts_with("oidc-provider ready")
        {
            return provider;
        }
    }
    panic!("the provider stopped before it was ready");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Cookies by name with their path, as a browser keeps them.
#[derive(Default)]
struct Jar(Vec<(String, String, String)>);

impl Jar {
    fn take(&mut self, response: &reqwest::Response) {
        for value in response.headers().get_all("set-cookie") {
            let Ok(text) = value.to_str() else { continue };
            let mut parts = text.split(';');
            let Some((name, value)) = parts.next().and_then(|p| p.trim().split_once('=')) else {
                continue;
            };
            let path = parts
                .find_map(|p| {
                    p.trim()
                        .strip_prefix("path=")
                        .or(p.trim().strip_prefix("Path="))
                })
                .unwrap_or("/")
                .to_string();
            self.0.retain(|(n, _, p)| !(n == name && *p == path));
            if !value.is_empty() {
                self.0.push((name.to_string(), value.to_string(), path));
            }
        }
    }

    fn header(&self, url: &str) -> String {
        let path = url
            .splitn(4, '/')
            .nth(3)
            .map_or("/".to_string(), |p| format!("/{p}"));
        self.0
            .iter()
            .filter(|(_, _, p)| path.starts_with(p.as_str()))
            .map(|(n, v, _)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

fn absolute(base: &str, location: &str) -> String {
    if location.starts_with("http") {
        location.to_string()
    } else {
        format!("{base}{location}")
    }
}

/// Walks the provider's login and consent pages from `start` until it
/// redirects to `callback`; returns that redirect.
async fn walk_to_callback(
    client: &reqwest::Client,
    jar: &mut Jar,
    provider: &str,
    start: &str,
    callback: &str,
) -> String {
    let mut url = start.to_string();
    for _ in 0..20 {
        if url.starts_with(callback) {
            return url;
        }
        let response = client
            .get(&url)
            .header("cookie", jar.header(&url))
            .send()
            .await
            .expect("provider page");
        jar.take(&response);
        if let Some(location) = response.headers().get("location") {
            url = absolute(provider, location.to_str().expect("location"));
            continue;
        }
        let page = response.text().await.expect("page");
        let form = if page.contains("value=\"login\"") {
            "prompt=login&login=alice&password=anything"
        } else {
            "prompt=consent"
        };
        let response = client
            .post(&url)
            .header("cookie", jar.header(&url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .expect("form post");
        jar.take(&response);
        let location = response.headers().get("location").expect("form redirects");
        url = absolute(provider, location.to_str().expect("location"));
    }
    panic!("the provider never redirected back");
}

fn stores() -> Stores {
    common::stores_of(&[(
        "acme",
        &[(
            "gateway.log",
            "2026-11-20T14:00:00Z ERROR gw: invalid_token acme-only-marker\n",
        )],
    )])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_round_trip_with_a_real_provider_and_forged_tokens_refused() {
    let Some(dir) = provider_dir() else {
        assert!(
            std::env::var_os("ONCALL_REQUIRE_OIDC").is_none(),
            "ONCALL_REQUIRE_OIDC is set but the provider is not installed"
        );
        eprintln!(
            "skipping the OIDC login test: run scripts/setup-oidc-provider and set ONCALL_OIDC_DIR to the folder it prints"
        );
        return;
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let app = format!("http://{}", listener.local_addr().expect("address"));
    let callback = format!("{app}/auth/callback");
    let provider_port = free_port();
    let issuer = format!("http://127.0.0.1:{provider_port}");
    let _provider = start_provider(&dir, provider_port, &callback);

    let home = tempfile::tempdir().expect("tempdir");
    let db = appdb::AppDb::open_file(&home.path().join("state.db"))
        .await
        .expect("db");
    let state = web::AppState::new(stores(), "nobody".into(), db, home.path().to_path_buf())
        .with_auth(web::AuthMode::Tokens)
        .with_oidc(web::OidcConfig {
            issuer: issuer.clone(),
            client_id: "oncall".into(),
            client_secret: SECRET.into(),
            redirect_url: callback.clone(),
            tenant_claim: "oncall_tenant".into(),
            role_claim: "oncall_role".into(),
        });
    tokio::spawn(web::serve_on(listener, state, std::future::pending()));

    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    // A browser without a session is sent to log in.
    let page = client
        .get(format!("{app}/search"))
        .header("accept", "text/html")
        .send()
        .await
        .expect("page");
    assert_eq!(page.headers()["location"], "/auth/login");

    let login = client
        .get(format!("{app}/auth/login"))
        .send()
        .await
        .expect("login");
    let to_provider = login.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    assert!(
        to_provider.starts_with(&format!("{issuer}/auth?")),
        "{to_provider}"
    );
    for part in [
        "code_challenge_method=S256",
        "code_challenge=",
        "state=",
        "nonce=",
    ] {
        assert!(to_provider.contains(part), "{part} in {to_provider}");
    }
    let binding = login.headers()["set-cookie"]
        .to_str()
        .expect("login cookie")
        .to_string();
    for attribute in [
        "oncall_login=",
        "HttpOnly",
        "Path=/auth/callback",
        "Max-Age=",
    ] {
        assert!(binding.contains(attribute), "{attribute} in {binding}");
    }
    let binding = binding.split(';').next().expect("pair").to_string();
    let mut jar = Jar::default();
    let back = walk_to_callback(&client, &mut jar, &issuer, &to_provider, &callback).await;
    // Login CSRF: the callback URL opened in a browser that did not start
    // the login (no pre-login cookie, or another one) logs nobody in, and
    // the login stays open for the browser that began it.
    let elsewhere = client.get(&back).send().await.expect("callback");
    assert_eq!(
        elsewhere.status(),
        401,
        "a callback without the login cookie"
    );
    let forged = client
        .get(&back)
        .header("cookie", "oncall_login=another-browsers-value")
        .send()
        .await
        .expect("callback");
    assert_eq!(forged.status(), 401, "a callback with another login cookie");
    let finished = client
        .get(&back)
        .header("cookie", &binding)
        .send()
        .await
        .expect("callback");
    assert_eq!(finished.status(), 303);
    let cookie = finished.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .to_string();
    for attribute in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    let session = cookie.split(';').next().expect("pair").to_string();

    let search = client
        .get(format!("{app}/api/search?q=invalid_token"))
        .header("cookie", &session)
        .send()
        .await
        .expect("search");
    assert_eq!(search.status(), 200);
    assert!(
        search
            .text()
            .await
            .expect("body")
            .contains("acme-only-marker"),
        "the tenant comes from the ID token"
    );
    let admin_only = client
        .get(format!("{app}/api/tokens"))
        .header("cookie", &session)
        .send()
        .await
        .expect("tokens");
    assert_eq!(admin_only.status(), 403, "the role comes from the ID token");
    let replayed = client
        .get(&back)
        .header("cookie", &binding)
        .send()
        .await
        .expect("replay");
    assert_eq!(replayed.status(), 401, "a login state is used once");

    let logout = client
        .post(format!("{app}/auth/logout"))
        .header("cookie", &session)
        .send()
        .await
        .expect("logout");
    assert_eq!(logout.status(), 303);
    let after = client
        .get(format!("{app}/api/search?q=invalid_token"))
        .header("cookie", &session)
        .send()
        .await
        .expect("search");
    assert_eq!(after.status(), 401, "the session ended");

    // An ID token of our own from the same provider, to forge from.
    let verifier = "a-verifier-of-at-least-forty-three-characters-long";
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let authorize = format!(
        "{issuer}/auth?client_id=oncall&response_type=code&scope=openid%20email%20oncall&redirect_uri={}&state=s2&nonce=n-test&code_challenge={challenge}&code_challenge_method=S256",
        callback.replace(':', "%3A").replace('/', "%2F")
    );
    let back = walk_to_callback(&client, &mut jar, &issuer, &authorize, &callback).await;
    let code = back
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("code="))
        .expect("code");
    let tokens: serde_json::Value = client
        .post(format!("{issuer}/token"))
        .basic_auth("oncall", Some(SECRET))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=authorization_code&code={code}&redirect_uri={}&code_verifier={verifier}",
            callback.replace(':', "%3A").replace('/', "%2F")
        ))
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    let id_token = tokens["id_token"].as_str().expect("id token");
    let jwks: serde_json::Value = client
        .get(format!("{issuer}/jwks"))
        .send()
        .await
        .expect("jwks")
        .json()
        .await
        .expect("json");
    let now = chrono::Utc::now().timestamp();
    let claims = web::verify_id_token(id_token, &jwks, &issuer, "oncall", "n-test", now)
        .expect("the genuine token verifies");
    assert_eq!(claims["oncall_tenant"], "acme");

    let parts: Vec<&str> = id_token.split('.').collect();
    let mut payload: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("payload")).expect("json");
    payload["oncall_role"] = "admin".into();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(payload.to_string()),
        parts[2]
    );
    assert_eq!(
        web::verify_id_token(&forged, &jwks, &issuer, "oncall", "n-test", now),
        Err(web::LoginError::Signature),
        "a tampered ID token"
    );
    assert_eq!(
        web::verify_id_token(id_token, &jwks, &issuer, "oncall", "another-nonce", now),
        Err(web::LoginError::Nonce),
        "a wrong nonce"
    );
    assert_eq!(
        web::verify_id_token(id_token, &jwks, &issuer, "someone-else", "n-test", now),
        Err(web::LoginError::Claims),
        "another client's token"
    );
    assert_eq!(
        web::verify_id_token(id_token, &jwks, &issuer, "oncall", "n-test", now + 7200),
        Err(web::LoginError::Claims),
        "an expired token"
    );
}
