//! The Redis revocation keys only ever move forward: a late (retried)
//! `revoke_user` carrying an older cut-off must not undo a newer one, or a
//! replica that reloads the denylist from Redis would accept tokens issued
//! between the two.

use cadenza_auth::denylist::{REVOKED_SID_PREFIX, USER_NBF_PREFIX};
use cadenza_auth::*;
use cadenza_platform::redis::Namespace;
use cadenza_testkit::keys::*;
use cadenza_testkit::{fresh_namespace, infra, mint, TokenSpec};
use redis::AsyncCommands;

async fn publisher(ns: &Namespace) -> RevocationPublisher {
    let client = redis::Client::open(infra().redis_url.as_str()).unwrap();
    let conn = cadenza_platform::redis::manager(&client).await.unwrap();
    RevocationPublisher::new(conn, ns.clone())
}

/// The stored value and TTL, read as `DenylistSink::load` reads them.
async fn stored(ns: &Namespace, key: &str) -> (Option<i64>, i64) {
    let client = redis::Client::open(infra().redis_url.as_str()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let value: Option<i64> = conn.get(ns.key(key)).await.unwrap();
    let ttl: i64 = conn.ttl(ns.key(key)).await.unwrap();
    (value, ttl)
}

#[tokio::test]
async fn a_late_older_user_revocation_does_not_undo_a_newer_one() {
    let ns = fresh_namespace();
    let now = chrono::Utc::now().timestamp();
    let (t1, t2) = (now - 100, now - 10);
    let spec = TokenSpec {
        iat_offset: -99, // issued at T1 + 1 s: refused by T2, accepted by T1
        ..TokenSpec::user()
    };
    let p = publisher(&ns).await;
    p.revoke_user(&spec.sub, t2).await.unwrap();
    // The retry of an earlier password change lands afterwards.
    p.revoke_user(&spec.sub, t1).await.unwrap();

    let (value, ttl) = stored(&ns, &format!("{USER_NBF_PREFIX}{}", spec.sub)).await;
    assert_eq!(value, Some(t2), "stored cut-off went backwards");
    assert!(ttl > 0, "the key keeps an expiry (ttl {ttl})");

    // A fresh replica loads from Redis and must refuse the token.
    let v = TokenVerifier::with_keys(
        ISSUER,
        AUDIENCE,
        PublicKeySet::from_pems(JWT_PUBLIC_PEM).unwrap(),
    );
    let client = redis::Client::open(infra().redis_url.as_str()).unwrap();
    let _sub = v.denylist().start_sync(client, ns).await;
    assert!(v.denylist().first_load_done());
    assert_eq!(
        v.verify(&mint(&spec)).await.unwrap_err(),
        AuthError::Revoked
    );
}

#[tokio::test]
async fn concurrent_user_revocations_keep_the_highest_cut_off() {
    let ns = fresh_namespace();
    let user = TokenSpec::user().sub;
    let base = chrono::Utc::now().timestamp() - 1000;
    let p = publisher(&ns).await;
    // 20 increasing values, sent in a shuffled order (7 is coprime to 20).
    let values: Vec<i64> = (0..20).map(|i| base + (i * 7 % 20) * 10).collect();
    let max = *values.iter().max().unwrap();
    let calls = values.iter().map(|&v| {
        let p = p.clone();
        let user = user.clone();
        tokio::spawn(async move { p.revoke_user(&user, v).await })
    });
    for r in futures::future::join_all(calls).await {
        r.unwrap().unwrap();
    }
    let (value, _) = stored(&ns, &format!("{USER_NBF_PREFIX}{user}")).await;
    assert_eq!(value, Some(max));
}

#[tokio::test]
async fn a_late_older_session_revocation_keeps_the_longer_expiry() {
    let ns = fresh_namespace();
    let spec = TokenSpec::user();
    let now = chrono::Utc::now().timestamp();
    let (e1, e2) = (now + 60, now + 900);
    let p = publisher(&ns).await;
    p.revoke_session(&spec.sid, &spec.sub, e2).await.unwrap();
    p.revoke_session(&spec.sid, &spec.sub, e1).await.unwrap();
    let (value, ttl) = stored(&ns, &format!("{REVOKED_SID_PREFIX}{}", spec.sid)).await;
    assert_eq!(value, Some(e2));
    assert!(ttl > 800, "the TTL was shortened to {ttl}");
}
