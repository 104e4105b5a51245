//! The HTTP surface: authorisation, bad input as problem+json, probes,
//! OpenAPI and the docs page.

mod common;

use cadenza_testkit::{mint, TokenSpec};
use common::{assert_problem, World};
use serde_json::{json, Value};

#[tokio::test]
async fn admin_role_is_required_everywhere_but_the_probes() {
    let w = World::new().await;
    let listener = mint(&TokenSpec::user());
    let id = uuid::Uuid::new_v4();
    let routes: Vec<(reqwest::Method, String)> = vec![
        (reqwest::Method::POST, "/upload-url".into()),
        (reqwest::Method::GET, "/album".into()),
        (reqwest::Method::POST, "/album".into()),
        (reqwest::Method::PATCH, format!("/album/{id}")),
        (reqwest::Method::DELETE, format!("/album/{id}")),
        (reqwest::Method::GET, format!("/album/{id}/song")),
        (reqwest::Method::GET, "/song".into()),
        (reqwest::Method::POST, "/song".into()),
        (reqwest::Method::PATCH, format!("/song/{id}")),
        (reqwest::Method::DELETE, format!("/song/{id}")),
    ];
    for (method, path) in routes {
        let anonymous = w
            .http
            .request(method.clone(), w.url(&path))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_problem(anonymous, 401, "").await;
        let forbidden = w
            .http
            .request(method.clone(), w.url(&path))
            .bearer_auth(&listener)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_problem(forbidden, 403, "").await;
    }
    let expired = mint(&TokenSpec {
        exp_offset: -120,
        iat_offset: -1000,
        nbf_offset: -1000,
        ..TokenSpec::admin()
    });
    let resp = w
        .http
        .get(w.url("/album"))
        .bearer_auth(expired)
        .send()
        .await
        .unwrap();
    assert_problem(resp, 401, "").await;

    for probe in ["/healthz", "/readyz", "/metrics"] {
        let resp = w.http.get(w.server.url(probe)).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{probe}");
    }
}

#[tokio::test]
async fn bad_input_is_a_4xx_problem_naming_the_field() {
    let w = World::new().await;
    let album = w.create_album("Valid").await;
    let album_id = album["id"].as_str().unwrap();
    let audio = w.audio().await;
    let song = |patch: Value| {
        let mut body = json!({"title": "t", "artist": "a", "audioKey": audio, "duration": 1.0, "albumId": album_id});
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };

    let cases: Vec<(Value, u16, &str)> = vec![
        (
            song(json!({"albumId": uuid::Uuid::new_v4()})),
            422,
            "albumId",
        ),
        (song(json!({"albumId": "not-a-uuid"})), 422, "albumId"),
        (song(json!({"duration": -1})), 422, "duration"),
        (song(json!({"duration": 86_401})), 422, "duration"),
        (song(json!({"duration": "long"})), 422, "duration"),
        (song(json!({"title": "   "})), 422, "title"),
        (song(json!({"artist": "x".repeat(201)})), 422, "artist"),
        (song(json!({"trackNumber": 0})), 422, "trackNumber"),
        (song(json!({"trackNumber": 1000})), 422, "trackNumber"),
        (
            song(json!({"audioKey": "thumbnails/x.png"})),
            422,
            "audioKey",
        ),
        (
            json!({"title": "t", "artist": "a", "duration": 1, "albumId": album_id}),
            422,
            "audioKey",
        ),
    ];
    for (body, status, field) in cases {
        let resp = w.post("/song", body.clone()).send().await.unwrap();
        assert_problem(resp, status, field).await;
    }
    let resp = w
        .post(
            "/album",
            json!({"name": "", "artist": "", "thumbnailKey": album["thumbnailKey"]}),
        )
        .send()
        .await
        .unwrap();
    let body = assert_problem(resp, 422, "name").await;
    assert_eq!(
        body["errors"].as_array().unwrap().len(),
        2,
        "both fields reported: {body}"
    );

    // malformed JSON, wrong media type
    let resp = w
        .http
        .post(w.url("/album"))
        .bearer_auth(&w.admin_token)
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    assert_problem(resp, 400, "body").await;
    let resp = w
        .http
        .post(w.url("/album"))
        .bearer_auth(&w.admin_token)
        .body("name=x")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 415);

    // non-uuid path ids
    for (method, path) in [
        (reqwest::Method::PATCH, "/album/42"),
        (reqwest::Method::DELETE, "/album/42"),
        (reqwest::Method::GET, "/album/42/song"),
        (reqwest::Method::PATCH, "/song/nope"),
        (reqwest::Method::DELETE, "/song/nope"),
    ] {
        let resp = w
            .http
            .request(method, w.url(path))
            .bearer_auth(&w.admin_token)
            .json(&json!({"name": "x", "title": "x"}))
            .send()
            .await
            .unwrap();
        assert_problem(resp, 400, "id").await;
    }

    // an oversized body is refused before it is read
    let resp = w
        .post(
            "/album",
            json!({"name": "x".repeat(20_000), "artist": "a", "thumbnailKey": "k"}),
        )
        .send()
        .await
        .unwrap();
    assert_problem(resp, 413, "").await;
}

#[tokio::test]
async fn openapi_document_and_docs_page_are_served() {
    let w = World::new().await;
    let doc: Value = w
        .http
        .get(w.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    for path in [
        "/upload-url",
        "/album",
        "/album/{id}",
        "/album/{id}/song",
        "/song",
        "/song/{id}",
    ] {
        assert!(doc["paths"].get(path).is_some(), "missing {path}");
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    assert!(doc["components"]["schemas"]["SongJson"]["properties"]["audioKey"].is_object());

    let resp = w.http.get(w.url("/docs")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let csp = resp.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(csp, cadenza_platform::docs::DOCS_CSP);
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("://"),
        "{csp}"
    );
    let html = resp.text().await.unwrap();
    assert!(html.contains("data-spec=\"openapi.json\""), "{html}");
    assert!(
        !html.contains("://"),
        "the page names another origin: {html}"
    );
    let js = w.http.get(w.url("/docs/app.js")).send().await.unwrap();
    assert_eq!(js.status(), 200);
}

#[tokio::test]
async fn readiness_names_a_missing_bucket() {
    let db = cadenza_testkit::fresh_database().await;
    let ns = cadenza_testkit::fresh_namespace();
    let app = admin_svc::build(common::config(&db, &ns, "cadenza-no-such-bucket-x", None))
        .await
        .unwrap();
    let server = cadenza_testkit::TestServer::start(app.router).await;
    let resp = reqwest::get(server.url("/readyz")).await.unwrap();
    let body = assert_problem(resp, 503, "s3").await;
    assert_eq!(
        body["errors"].as_array().unwrap().len(),
        1,
        "postgres and redis are fine: {body}"
    );
}
