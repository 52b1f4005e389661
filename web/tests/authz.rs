//! The authorization matrix: every route of the router (the OpenAPI spec's
//! operations and the pages) x every role (none, viewer, oncall, admin) x
//! the caller's own tenant and the other one. Routes come from the router
//! itself, so a new route is in the matrix the day it is added.
//!
//! Two tenants hold records, questions, uploads and tokens with distinct
//! markers; a caller must get 401 without a token, 403 below the route's
//! role, and otherwise never a byte of the other tenant's data: its ids in
//! a path give 404.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use retrieval::Stores;
use tower::ServiceExt;

const TENANTS: [&str; 2] = ["acme", "globex"];

fn marker(tenant: &str) -> String {
    format!("marker-{tenant}-7f3a")
}

fn stores() -> Stores {
    let logs: Vec<String> = TENANTS
        .iter()
        .map(|tenant| {
            (0..20)
                .map(|minute| {
                    format!(
                        "2026-11-20T14:{minute:02}:00Z ERROR gw: invalid_token {} kid=k{minute}\n",
                        marker(tenant)
                    )
                })
                .collect()
        })
        .collect();
    common::stores_of(&[
        (TENANTS[0], &[("gateway.log", logs[0].as_str())]),
        (TENANTS[1], &[("gateway.log", logs[1].as_str())]),
    ])
}

/// Per tenant: a token per role, and ids of its resources.
struct TenantFixture {
    tokens: Vec<(appdb::Role, String)>,
    record: String,
    question: String,
    upload: String,
    token_id: String,
}

async fn call(
    app: &axum::Router,
    method: &Method,
    uri: &str,
    token: Option<&str>,
    body: &str,
) -> (StatusCode, String) {
    let mut request = Request::builder()
        .header("host", "localhost")
        .method(method)
        .uri(uri)
        .header("content-type", "application/json");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::from(body.to_string())).expect("request"))
        .await
        .expect("response");
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

async fn fixture(app: &axum::Router, db: &appdb::AppDb, tenant: &str) -> TenantFixture {
    let mut tokens = Vec::new();
    for role in appdb::Role::ALL {
        let (secret, _) = db
            .create_token(tenant, role.as_str(), role, None)
            .await
            .expect("token");
        tokens.push((role, secret));
    }
    let admin = tokens[2].1.clone();
    let (_, spare) = db
        .create_token(tenant, "spare", appdb::Role::Viewer, None)
        .await
        .expect("token");
    let token_id = db.tokens(tenant).await.expect("tokens")[0].id.clone();
    drop(spare);
    let (_, body) = call(
        app,
        &Method::GET,
        "/api/search?q=invalid_token",
        Some(&admin),
        "",
    )
    .await;
    let hits: serde_json::Value = serde_json::from_str(&body).expect("json");
    let record = hits["hits"][0]["record"]["id"]
        .as_str()
        .expect("record")
        .to_string();
    let (_, body) = call(
        app,
        &Method::POST,
        "/api/ask",
        Some(&admin),
        r#"{"question":"why invalid_token?"}"#,
    )
    .await;
    let asked: serde_json::Value = serde_json::from_str(&body).expect("json");
    let question = asked["question_id"].as_str().expect("question").to_string();
    let upload_request = Request::post("/api/uploads?name=more.log")
        .header("host", "localhost")
        .header("authorization", format!("Bearer {admin}"))
        .body(Body::from(format!(
            "2026-11-20T15:00:00Z INFO gw: uploaded {}\n",
            marker(tenant)
        )))
        .expect("request");
    let response = app.clone().oneshot(upload_request).await.expect("upload");
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let job: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
    TenantFixture {
        tokens,
        record,
        question,
        upload: job["id"].as_str().expect("upload id").to_string(),
        token_id,
    }
}

fn required(method: &Method, path: &str) -> web::Access {
    web::access(method, path).unwrap_or_else(|| panic!("{method} {path} has no access rule"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_role_or_tenant_reaches_beyond_its_grant_on_any_route() {
    let home = tempfile::tempdir().expect("tempdir");
    let db = appdb::AppDb::open_file(&home.path().join("state.db"))
        .await
        .expect("db");
    let state = web::AppState::new(
        stores(),
        "acme".into(),
        db.clone(),
        home.path().to_path_buf(),
    )
    .with_auth(web::AuthMode::Tokens)
    .with_rate_limit(None);
    let app = web::router(state);
    let mut fixtures = Vec::new();
    for tenant in TENANTS {
        fixtures.push(fixture(&app, &db, tenant).await);
    }
    // Uploads finish in the background; wait so their records are there.
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;

    let mut routes: Vec<(Method, String)> = Vec::new();
    let spec = serde_json::to_value(web::openapi()).expect("spec");
    for (path, operations) in spec["paths"].as_object().expect("paths") {
        for method in operations.as_object().expect("operations").keys() {
            routes.push((
                Method::from_bytes(method.to_uppercase().as_bytes()).expect("method"),
                path.clone(),
            ));
        }
    }
    for page in web::PAGES {
        routes.push((Method::GET, page.to_string()));
    }
    for form in web::FORMS {
        routes.push((Method::POST, form.to_string()));
    }
    assert_eq!(
        routes.len(),
        web::ACCESS.len(),
        "every route has exactly one access rule and every rule a route"
    );

    let mut cells = 0;
    for (method, path) in &routes {
        let rule = required(method, path);
        for (own, other) in [(0, 1), (1, 0)] {
            let (mine, theirs) = (&fixtures[own], &fixtures[other]);
            let other_marker = marker(TENANTS[other]);
            // Path ids are the other tenant's: reaching them would be a leak.
            let uri = path
                .replace(
                    "{id}",
                    if path.contains("records") {
                        &theirs.record
                    } else if path.contains("questions") {
                        &theirs.question
                    } else if path.contains("uploads") {
                        &theirs.upload
                    } else {
                        &theirs.token_id
                    },
                )
                .replace("/search", "/search?q=invalid_token+uploaded")
                .replace("/api/ask/stream", "/api/ask/stream?q=why+invalid_token");
            let body = if path == "/api/ask" {
                r#"{"question":"why invalid_token?"}"#
            } else if path.contains("feedback") {
                r#"{"useful":true}"#
            } else if path == "/api/channels" {
                r#"{"channel":"slack:T1:shared","services":[]}"#
            } else if path == "/api/tokens" {
                r#"{"name":"made","role":"viewer"}"#
            } else {
                "{}"
            };
            let callers = std::iter::once((None, None)).chain(
                mine.tokens
                    .iter()
                    .map(|(role, secret)| (Some(*role), Some(secret.as_str()))),
            );
            for (role, token) in callers {
                cells += 1;
                let (status, text) = call(&app, method, &uri, token, body).await;
                let cell = format!("{method} {uri} as {role:?} of {}", TENANTS[own]);
                match (rule, role) {
                    (web::Access::Least(_), None) => {
                        assert_eq!(status, StatusCode::UNAUTHORIZED, "{cell}");
                        continue;
                    }
                    (web::Access::Least(least), Some(role)) if role < least => {
                        assert_eq!(status, StatusCode::FORBIDDEN, "{cell}");
                        continue;
                    }
                    _ => {}
                }
                if path == "/metrics" && TENANTS[own] != "acme" {
                    // Server-wide counters are the operator's: only admins
                    // of the server's own tenant read them.
                    assert_eq!(status, StatusCode::FORBIDDEN, "{cell}");
                    continue;
                }
                assert!(
                    status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN
                        || matches!(rule, web::Access::Chat),
                    "{cell}: {status}"
                );
                assert!(!text.contains(&other_marker), "{cell} leaked: {text}");
                for id in [&theirs.record, &theirs.question, &theirs.upload] {
                    assert!(!text.contains(id.as_str()), "{cell} leaked {id}");
                }
                if path == "/api/search" || path == "/search" {
                    assert!(
                        text.contains(&marker(TENANTS[own])),
                        "{cell} sees its own data"
                    );
                }
                if path.contains("{id}") {
                    assert_eq!(status, StatusCode::NOT_FOUND, "{cell}: another tenant's id");
                }
            }
        }
    }
    eprintln!(
        "authorization matrix: {} routes x 4 callers (none, viewer, oncall, admin) x 2 tenants = {cells} cells",
        routes.len()
    );
    assert_eq!(cells, routes.len() * 4 * 2);

    // The other tenant's token survived the attempts to revoke it, and no
    // admin's request linked the channel: that takes proof from the
    // channel itself.
    for fixture in &fixtures {
        for (_, secret) in &fixture.tokens {
            assert!(db.token_by_secret(secret).await.expect("lookup").is_some());
        }
    }
    assert_eq!(db.channel("slack:T1:shared").await.expect("channel"), None);
}
