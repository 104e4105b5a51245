//! A private world per test: its own MongoDB database, Redis namespace and
//! SQS queue, with the app built in-process and served on a loopback port.
#![allow(dead_code)]

use std::time::Duration;

use cadenza_platform::redis::Namespace;
use cadenza_testkit::{infra, keys, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use user_svc::client_ip::ProxyPolicy;
use user_svc::ratelimit::Limits;
use user_svc::{App, Config};

pub const PASSWORD: &str = "Quiet-Harbour-Lantern-42";
pub const PUBLIC_BASE_URL: &str = "http://cadenza.test";

pub async fn create_queue(sqs: &aws_sdk_sqs::Client) -> String {
    let name = cadenza_testkit::unique_name("user-svc-t-");
    sqs.create_queue()
        .queue_name(name)
        .send()
        .await
        .expect("create SQS queue in moto")
        .queue_url()
        .expect("queue url")
        .to_owned()
}

pub fn config(mongo_db: &str, ns: &Namespace, queue_url: &str, sqs_endpoint: &str) -> Config {
    let i = infra();
    Config {
        port: 0,
        public_base_url: PUBLIC_BASE_URL.into(),
        jwt_private_key: keys::JWT_PRIVATE_PEM.into(),
        jwt_public_keys: None,
        jwt_issuer: keys::ISSUER.into(),
        jwt_audience: keys::AUDIENCE.into(),
        mongodb_uri: i.mongodb_uri.clone().into(),
        mongodb_db: mongo_db.into(),
        redis_url: i.redis_url.clone().into(),
        redis_namespace: ns.clone(),
        sqs_email_queue_url: queue_url.into(),
        sqs_endpoint: Some(sqs_endpoint.into()),
        cookie_secure: true,
        proxy: ProxyPolicy::none(),
        limits: Limits::default(),
        refresh_grace: Duration::from_secs(10),
        outbox_base_backoff: Duration::from_millis(200),
        outbox_poll_interval: Duration::from_millis(200),
        api_docs: true,
    }
}

pub struct World {
    pub app: App,
    pub server: TestServer,
    pub ns: Namespace,
    pub mongo_db: String,
    pub sqs: aws_sdk_sqs::Client,
    pub queue_url: String,
    pub http: reqwest::Client,
    /// Jobs received from the queue so far.
    pub jobs: tokio::sync::Mutex<Vec<Value>>,
}

pub async fn sqs() -> aws_sdk_sqs::Client {
    user_svc::app::sqs_client(Some(&infra().aws_endpoint)).await
}

impl World {
    pub async fn new() -> Self {
        Self::with(|_| {}).await
    }

    pub async fn with(tweak: impl FnOnce(&mut Config)) -> Self {
        let sqs = sqs().await;
        let queue_url = create_queue(&sqs).await;
        let ns = cadenza_testkit::fresh_namespace();
        let mongo_db = cadenza_testkit::fresh_mongo_db();
        let mut cfg = config(&mongo_db, &ns, &queue_url, &infra().aws_endpoint);
        tweak(&mut cfg);
        Self::start(cfg, sqs, queue_url).await
    }

    pub async fn start(cfg: Config, sqs: aws_sdk_sqs::Client, queue_url: String) -> Self {
        let ns = cfg.redis_namespace.clone();
        let mongo_db = cfg.mongodb_db.clone();
        let app = user_svc::build(cfg).await.expect("build user-svc");
        let server = TestServer::start(app.router.clone()).await;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self {
            app,
            server,
            ns,
            mongo_db,
            sqs,
            queue_url,
            http,
            jobs: Default::default(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        self.server.url(path)
    }

    /// Waits for the work handlers started after replying (the mails of
    /// forgot-password and resend-verification).
    pub async fn settled(&self) {
        let pending = &self.app.state.after_reply;
        pending.close();
        pending.wait().await;
        pending.reopen();
    }

    pub async fn call(&self, req: Req<'_>) -> Resp {
        let resp = cadenza_testkit::http::send(req.build(&self.http, &self.url(""))).await;
        assert_no_secrets(&resp.text);
        resp
    }

    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.call(Req::new(Method::POST, path).json(body)).await
    }

    pub async fn register(&self, email: &str) -> Resp {
        self.post(
            "/api/user/register",
            json!({"email": email, "password": PASSWORD}),
        )
        .await
    }

    pub async fn login(&self, email: &str, password: &str) -> Resp {
        self.post(
            "/api/user/login",
            json!({"email": email, "password": password}),
        )
        .await
    }

    /// Registers, verifies through the mailed link and logs in.
    pub async fn user(&self, email: &str) -> Session {
        assert_eq!(self.register(email).await.status, StatusCode::CREATED);
        let job = self.job("verify_email", email).await;
        let token = link_token(&job, "/verify-email");
        let r = self
            .post("/api/user/verify-email", json!({"token": token}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        self.session(email).await
    }

    pub async fn session(&self, email: &str) -> Session {
        let r = self.login(email, PASSWORD).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        Session {
            access: r.json["accessToken"].as_str().unwrap().to_owned(),
            refresh: r.refresh_cookie().expect("login sets the refresh cookie"),
            user_id: r.json["userData"]["sub"].as_str().unwrap().to_owned(),
        }
    }

    /// Drains the queue into `jobs`.
    pub async fn poll_queue(&self) {
        let bodies = cadenza_testkit::aws::drain_queue(&self.sqs, &self.queue_url)
            .await
            .expect("receive from SQS");
        let mut jobs = self.jobs.lock().await;
        for body in bodies {
            jobs.push(serde_json::from_str(&body).expect("job is JSON"));
        }
    }

    /// The first job of `kind` to `to`, waiting up to 10 s for it.
    pub async fn job(&self, kind: &str, to: &str) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            self.poll_queue().await;
            {
                let mut jobs = self.jobs.lock().await;
                if let Some(i) = jobs.iter().position(|j| j["kind"] == kind && j["to"] == to) {
                    return jobs.remove(i);
                }
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no {kind} job to {to} arrived"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Every job received so far (after one more poll).
    pub async fn all_jobs(&self) -> Vec<Value> {
        self.poll_queue().await;
        self.jobs.lock().await.clone()
    }

    pub async fn mongo(&self) -> mongodb::Database {
        mongodb::Client::with_uri_str(&infra().mongodb_uri)
            .await
            .unwrap()
            .database(&self.mongo_db)
    }
}

pub use cadenza_testkit::http::{Req, Resp, Session};

/// The token in a job's link, which must point at `page` on the public origin.
pub fn link_token(job: &Value, page: &str) -> String {
    cadenza_testkit::http::link_token(job, PUBLIC_BASE_URL, page)
}

/// No response ever carries a password hash, a stored token hash or a
/// password field.
pub fn assert_no_secrets(body: &str) {
    for needle in [
        "$argon2",
        "$2b$",
        "$2a$",
        "tokenHash",
        "\"password\":\"",
        "\"passwordHash\"",
    ] {
        assert!(!body.contains(needle), "response leaks {needle}: {body}");
    }
}
