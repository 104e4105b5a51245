//! One isolated world per test: a fresh database (migrated by the app), a
//! fresh Redis namespace and a fresh SeaweedFS bucket, with admin-svc served
//! on an ephemeral port.
#![allow(dead_code)]

use admin_svc::{build, AppState, Config};
use cadenza_platform::redis::Namespace;
use cadenza_testkit::{
    fresh_database, fresh_namespace, infra, mint, unique_name, TestDatabase, TestServer, TokenSpec,
};

/// The CDN origin the test app is configured with.
pub const CDN_BASE: &str = "https://cdn.cadenza.test";
use serde_json::{json, Value};

pub struct World {
    pub server: TestServer,
    pub db: TestDatabase,
    pub ns: Namespace,
    pub bucket: String,
    pub s3: aws_sdk_s3::Client,
    pub http: reqwest::Client,
    pub admin_token: String,
    pub state: AppState,
}

pub use cadenza_testkit::aws::{remove_bucket, s3_client};

pub fn config(
    db: &TestDatabase,
    ns: &Namespace,
    bucket: &str,
    distribution: Option<String>,
) -> Config {
    let infra = infra();
    Config {
        port: 0,
        public_base_url: "http://127.0.0.1:8080".into(),
        verifier: cadenza_testkit::keys::verifier_config(),
        database_url: db.url.clone().into(),
        redis_url: infra.redis_url.clone().into(),
        redis_namespace: ns.clone(),
        s3_bucket: bucket.into(),
        s3_force_path_style: true,
        s3_endpoint: Some(infra.s3_endpoint.clone()),
        s3_public_endpoint: None,
        cloudfront_distribution_id: distribution,
        cdn_base_url: Some(CDN_BASE.to_owned()),
        cloudfront_endpoint: Some(infra.aws_endpoint.clone()),
        migrate_on_start: true,
        media_queue_url: None,
        api_docs: true,
    }
}

impl World {
    pub async fn new() -> Self {
        Self::with_distribution(None).await
    }

    pub async fn with_distribution(distribution: Option<String>) -> Self {
        Self::with_config(|c| c.cloudfront_distribution_id = distribution).await
    }

    pub async fn with_config(change: impl FnOnce(&mut Config)) -> Self {
        let db = fresh_database().await;
        let ns = fresh_namespace();
        let s3 = s3_client().await;
        let bucket = unique_name("cadenza-t-");
        s3.create_bucket()
            .bucket(&bucket)
            .send()
            .await
            .expect("create test bucket");
        let mut config = config(&db, &ns, &bucket, None);
        change(&mut config);
        let app = build(config).await.expect("build app");
        let server = TestServer::start(app.router).await;
        World {
            server,
            db,
            ns,
            bucket,
            s3,
            http: reqwest::Client::new(),
            admin_token: mint(&TokenSpec::admin()),
            state: app.state,
        }
    }

    pub fn url(&self, path: &str) -> String {
        self.server.url(&format!("/api/admin{path}"))
    }

    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.get(self.url(path)).bearer_auth(&self.admin_token)
    }

    pub fn post(&self, path: &str, body: Value) -> reqwest::RequestBuilder {
        self.http
            .post(self.url(path))
            .bearer_auth(&self.admin_token)
            .json(&body)
    }

    pub fn patch(&self, path: &str, body: Value) -> reqwest::RequestBuilder {
        self.http
            .patch(self.url(path))
            .bearer_auth(&self.admin_token)
            .json(&body)
    }

    pub fn delete(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .delete(self.url(path))
            .bearer_auth(&self.admin_token)
    }

    /// Asks for an upload URL and PUTs `bytes` with the signed headers.
    pub async fn upload(&self, kind: &str, content_type: &str, bytes: Vec<u8>) -> String {
        let resp = self
            .post(
                "/upload-url",
                json!({"type": kind, "contentType": content_type, "size": bytes.len()}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(
            resp.status(),
            200,
            "upload-url: {}",
            resp.text().await.unwrap()
        );
        let body: Value = resp.json().await.unwrap();
        let mut put = self.http.put(body["presignedURL"].as_str().unwrap());
        for (name, value) in body["headers"].as_object().unwrap() {
            put = put.header(name.as_str(), value.as_str().unwrap());
        }
        let put = put.body(bytes).send().await.unwrap();
        assert_eq!(
            put.status(),
            200,
            "PUT to S3: {}",
            put.text().await.unwrap()
        );
        body["fileKey"].as_str().unwrap().to_owned()
    }

    pub async fn cover(&self) -> String {
        self.upload("thumbnail", "image/png", b"\x89PNG fake cover".to_vec())
            .await
    }

    pub async fn audio(&self) -> String {
        self.upload("song", "audio/mpeg", vec![7u8; 2048]).await
    }

    pub async fn create_album(&self, name: &str) -> Value {
        let cover = self.cover().await;
        let resp = self
            .post(
                "/album",
                json!({"name": name, "artist": "Miles Davis", "thumbnailKey": cover}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
        resp.json::<Value>().await.unwrap()["album"].clone()
    }

    pub async fn create_song(&self, album_id: &str, title: &str, extra: Value) -> Value {
        let audio = self.audio().await;
        let mut body = json!({"title": title, "artist": "Miles Davis", "audioKey": audio, "duration": 321.5, "albumId": album_id});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let resp = self.post("/song", body).send().await.unwrap();
        assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
        resp.json::<Value>().await.unwrap()["song"].clone()
    }

    /// Every key in the bucket.
    /// The live keys: every object except those under `trash/`.
    pub async fn bucket_keys(&self) -> Vec<String> {
        let mut keys = self.all_keys().await;
        keys.retain(|k| !k.starts_with("trash/"));
        keys
    }

    /// The trashed objects' original keys (`trash/<key>` → `<key>`).
    pub async fn trash_keys(&self) -> Vec<String> {
        self.all_keys()
            .await
            .into_iter()
            .filter_map(|k| k.strip_prefix("trash/").map(str::to_owned))
            .collect()
    }

    pub async fn all_keys(&self) -> Vec<String> {
        let out = self
            .s3
            .list_objects_v2()
            .bucket(&self.bucket)
            .send()
            .await
            .unwrap();
        let mut keys: Vec<String> = out
            .contents()
            .iter()
            .filter_map(|o| o.key().map(str::to_owned))
            .collect();
        keys.sort();
        keys
    }

    pub async fn put(&self, key: &str, bytes: &[u8]) {
        self.s3
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .body(bytes.to_vec().into())
            .send()
            .await
            .unwrap();
    }

    pub async fn object_bytes(&self, key: &str) -> Vec<u8> {
        let out = self
            .s3
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .unwrap();
        out.body.collect().await.unwrap().into_bytes().to_vec()
    }
}

/// Records every catalogue event published in a namespace.
pub struct EventLog;

impl EventLog {
    pub async fn start(ns: &Namespace) -> cadenza_testkit::events::EventLog {
        cadenza_testkit::events::EventLog::start(ns, &cadenza_events::channel::CATALOGUE).await
    }
}

/// Asserts a problem+json answer with the given status naming `field`.
pub async fn assert_problem(resp: reqwest::Response, status: u16, field: &str) -> Value {
    let got = resp.status().as_u16();
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    assert_eq!(got, status, "{body}");
    assert_eq!(ct, "application/problem+json", "{body}");
    assert_eq!(body["message"], body["detail"]);
    assert_eq!(
        body["error"], body["detail"],
        "the seed's auth pages read `error`: {body}"
    );
    if !field.is_empty() {
        let fields: Vec<&str> = body["errors"]
            .as_array()
            .map(|a| a.iter().filter_map(|e| e["field"].as_str()).collect())
            .unwrap_or_default();
        assert!(fields.contains(&field), "expected field {field} in {body}");
    }
    body
}

pub fn s3_url() -> String {
    infra().s3_endpoint.clone()
}

impl Drop for World {
    fn drop(&mut self) {
        // Drop runs inside the test's runtime, which cannot be blocked on:
        // clean up from a thread with its own runtime and its own client.
        let bucket = self.bucket.clone();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(rt) = rt {
                rt.block_on(async {
                    let s3 = s3_client().await;
                    remove_bucket(&s3, &bucket).await;
                });
            }
        })
        .join();
    }
}
