//! Listening history and trending (issue 19) on the real MongoDB-wire
//! server: the scrobbling rule, one count per playback under concurrent
//! reports, newest-first history, and the 7-day trending window followed
//! with the service's clock moved forward instead of waiting.

mod common;

use std::time::Duration;

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

async fn play(
    w: &World,
    token: &str,
    song: &str,
    playback: &str,
    played: f64,
    length: f64,
) -> Resp {
    w.call(Req::post("/api/user/plays").bearer(token).json(json!({
        "songId": song, "playbackId": playback, "playedSeconds": played, "durationSeconds": length
    })))
    .await
}

async fn counted(w: &World, token: &str, song: &str) -> Resp {
    play(w, token, song, &Uuid::new_v4().to_string(), 31.0, 200.0).await
}

fn songs(v: &Value, field: &str) -> Vec<(String, i64)> {
    v[field]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["songId"].as_str().unwrap().to_owned(),
                s["plays"].as_i64().unwrap_or(0),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_play_counts_once_per_playback_and_only_after_30_s_or_half_the_song() {
    let w = World::new().await;
    let me = w.user("scrobble@example.com").await;
    let song = Uuid::new_v4().to_string();
    let playback = Uuid::new_v4().to_string();
    // Too early: 10 s of a 5-minute song; 15 s of a 40 s song is not half.
    for (played, length) in [(10.0, 300.0), (15.0, 40.0), (f64::NAN, 40.0)] {
        let r = w
            .call(Req::post("/api/user/plays").bearer(&me.access).raw(&format!(
                r#"{{"songId":"{song}","playbackId":"{playback}","playedSeconds":{},"durationSeconds":{length}}}"#,
                if played.is_nan() { "null".to_owned() } else { played.to_string() }
            )))
            .await;
        assert!(r.status.is_client_error(), "{played}/{length}: {}", r.text);
    }
    let r = play(&w, &me.access, &song, &playback, 10.0, 300.0).await;
    assert_eq!(r.problem_field().as_deref(), Some("playedSeconds"));
    let r = play(&w, &me.access, "aaaa", &playback, 40.0, 300.0).await;
    assert_eq!(
        r.problem_field().as_deref(),
        Some("songId"),
        "catalogue ids are UUIDs"
    );
    let r = play(&w, &me.access, &song, "not-a-uuid", 40.0, 300.0).await;
    assert_eq!(r.problem_field().as_deref(), Some("playbackId"));

    // Half of a 40 s song counts; the same playback reported by eight
    // requests at once (retries, two tabs) counts once.
    let answers = futures::future::join_all(
        (0..8).map(|_| play(&w, &me.access, &song, &playback, 20.0, 40.0)),
    )
    .await;
    let created = answers
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .count();
    let again = answers
        .iter()
        .filter(|r| r.status == StatusCode::OK && r.json["counted"] == false)
        .count();
    assert_eq!(
        (created, again),
        (1, 7),
        "{:?}",
        answers
            .iter()
            .map(|r| (r.status, &r.text))
            .collect::<Vec<_>>()
    );
    // A second playback of the same song is a second play.
    assert_eq!(
        counted(&w, &me.access, &song).await.status,
        StatusCode::CREATED
    );
    let top = w
        .call(Req::get("/api/user/history/top").bearer(&me.access))
        .await;
    assert_eq!(songs(&top.json, "songs"), vec![(song.clone(), 2)]);
    let recent = w
        .call(Req::get("/api/user/history").bearer(&me.access))
        .await;
    assert_eq!(recent.json["plays"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn recently_played_is_newest_first_bounded_and_private() {
    let w = World::new().await;
    let me = w.user("recent@example.com").await;
    let other = w.user("other-recent@example.com").await;
    let order: Vec<String> = (0..3).map(|_| Uuid::new_v4().to_string()).collect();
    for s in &order {
        assert_eq!(counted(&w, &me.access, s).await.status, StatusCode::CREATED);
        w.app.state.clock.advance(Duration::from_secs(1));
    }
    let r = w
        .call(Req::get("/api/user/history").bearer(&me.access))
        .await;
    let got: Vec<&str> = r.json["plays"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["songId"].as_str().unwrap())
        .collect();
    assert_eq!(
        got,
        vec![order[2].as_str(), order[1].as_str(), order[0].as_str()]
    );
    let r = w
        .call(Req::get("/api/user/history?limit=2").bearer(&me.access))
        .await;
    assert_eq!(r.json["plays"].as_array().unwrap().len(), 2);
    for bad in ["0", "101"] {
        let r = w
            .call(Req::get(&format!("/api/user/history?limit={bad}")).bearer(&me.access))
            .await;
        assert_eq!(
            (r.status, r.problem_field().as_deref()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("limit"))
        );
    }
    let r = w
        .call(Req::get("/api/user/history").bearer(&other.access))
        .await;
    assert_eq!(
        r.json["plays"].as_array().unwrap().len(),
        0,
        "another listener's history is theirs"
    );
    assert_eq!(
        w.call(Req::get("/api/user/history")).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn trending_counts_everyones_plays_of_the_last_7_days_at_most_a_minute_late() {
    let w = World::new().await;
    let a = w.user("trend-a@example.com").await;
    let b = w.user("trend-b@example.com").await;
    let (x, y, z) = (
        Uuid::new_v4().to_string(),
        Uuid::new_v4().to_string(),
        Uuid::new_v4().to_string(),
    );
    for (who, song) in [(&a, &x), (&a, &x), (&b, &x), (&b, &y)] {
        assert_eq!(
            counted(&w, &who.access, song).await.status,
            StatusCode::CREATED
        );
    }
    let trending = || async { w.call(Req::get("/api/user/trending")).await };
    let r = trending().await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        songs(&r.json, "songs"),
        vec![(x.clone(), 3), (y.clone(), 1)]
    );
    assert!(r.headers["cache-control"]
        .to_str()
        .unwrap()
        .contains("max-age=60"));

    // Kept for a minute: new plays show after it.
    w.app.state.clock.advance(Duration::from_secs(3 * 86_400));
    for _ in 0..4 {
        assert_eq!(counted(&w, &b.access, &z).await.status, StatusCode::CREATED);
    }
    // (the clock moved 3 days: the kept list is stale, so recomputed now)
    assert_eq!(
        songs(&trending().await.json, "songs"),
        vec![(z.clone(), 4), (x.clone(), 3), (y.clone(), 1)]
    );
    assert_eq!(counted(&w, &a.access, &y).await.status, StatusCode::CREATED);
    assert_eq!(
        songs(&trending().await.json, "songs")[2],
        (y.clone(), 1),
        "kept for up to a minute"
    );
    w.app.state.clock.advance(Duration::from_secs(61));
    assert_eq!(
        songs(&trending().await.json, "songs")[2],
        (y.clone(), 2),
        "recomputed after a minute"
    );

    // Five days later the first plays are more than 7 days old.
    w.app.state.clock.advance(Duration::from_secs(5 * 86_400));
    assert_eq!(
        songs(&trending().await.json, "songs"),
        vec![(z.clone(), 4), (y.clone(), 1)]
    );
    // One listener alone moves a song up by at most 5 plays a week.
    let q = Uuid::new_v4().to_string();
    for _ in 0..8 {
        assert_eq!(counted(&w, &a.access, &q).await.status, StatusCode::CREATED);
    }
    w.app.state.clock.advance(Duration::from_secs(61));
    assert_eq!(
        songs(&trending().await.json, "songs"),
        vec![(q.clone(), 5), (z.clone(), 4), (y.clone(), 1)],
        "8 plays of one listener count 5"
    );
    // A listener's own counts are all-time.
    let top = w
        .call(Req::get("/api/user/history/top").bearer(&a.access))
        .await;
    assert_eq!(
        songs(&top.json, "songs"),
        vec![(q.clone(), 8), (x.clone(), 2), (y.clone(), 1)]
    );
}

/// The trending check-then-act, raced: 32 listeners ask at once for a list
/// that has just gone stale. One aggregation runs; all get its answer.
#[tokio::test]
async fn concurrent_requests_for_a_stale_trending_list_share_one_aggregation() {
    let w = World::new().await;
    let a = w.user("trend-race@example.com").await;
    let x = Uuid::new_v4().to_string();
    assert_eq!(counted(&w, &a.access, &x).await.status, StatusCode::CREATED);
    let trending = &w.app.state.trending;
    let first = w.call(Req::get("/api/user/trending")).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let before = trending.computations();
    w.app.state.clock.advance(Duration::from_secs(61));
    let answers =
        futures::future::join_all((0..32).map(|_| w.call(Req::get("/api/user/trending")))).await;
    assert_eq!(
        trending.computations(),
        before + 1,
        "one aggregation for 32 requests"
    );
    for r in &answers {
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.json, answers[0].json, "one answer");
    }
    assert_ne!(
        answers[0].json["computedAt"], first.json["computedAt"],
        "recomputed"
    );
    // Within the minute, no aggregation at all.
    w.call(Req::get("/api/user/trending")).await;
    assert_eq!(trending.computations(), before + 1);
}
