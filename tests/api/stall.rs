//! Nothing a client sends can stall the service (issue 16 item 2, "a blocked-worker test"):
//! while 100 sign-ins with random names are in flight all the time — each one an Argon2
//! verification — a WeChat push is still answered within the platform's 5 seconds. Argon2
//! runs on blocking threads behind a bounded queue (`staff::verify_password_queued`); were
//! it on the async workers, they would be busy hashing and the push would wait behind it.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::both_databases;
use crate::bots::{configure, Bot, FakePlatform, Mode};
use crate::helpers::*;
use crate::tools;

both_databases!(backend: a_bot_push_is_answered_in_time_during_a_flood_of_sign_ins);

const SIGN_INS_IN_FLIGHT: usize = 100;

async fn a_bot_push_is_answered_in_time_during_a_flood_of_sign_ins(backend: Backend) {
    if !tools::need(
        "stall::* (the push is signed by tests/support/wx_platform.py)",
        &[tools::PYTHON3, tools::OPENSSL],
    ) {
        return;
    }
    let fake = FakePlatform::start().await;
    let Some(app) = spawn_app_with(backend, |c| {
        configure(&fake)(c);
        // Every sign-in must reach Argon2: no per-client refusal before it.
        c.staff.failed_logins_per_client = 1_000_000;
    })
    .await
    else {
        fake.handle.stop(true).await;
        return;
    };
    let app = Arc::new(app);
    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicUsize::new(0));
    let refused = Arc::new(AtomicUsize::new(0));
    let mut flood = vec![];
    for i in 0..SIGN_INS_IN_FLIGHT {
        let (app, stop) = (app.clone(), stop.clone());
        let (answered, refused) = (answered.clone(), refused.clone());
        flood.push(tokio::spawn(async move {
            let mut n = 0u64;
            while !stop.load(Ordering::SeqCst) {
                n += 1;
                let name = format!("nobody-{i}-{n}-{}", uuid::Uuid::new_v4().simple());
                let res = app
                    .client
                    .post(app.url("/api/v1/auth/login"))
                    .json(&json!({"username": name, "password": "a wrong password 123"}))
                    .send()
                    .await;
                match res.map(|r| r.status().as_u16()) {
                    // Verified against the dummy hash: a wrong sign-in.
                    Ok(401) => answered.fetch_add(1, Ordering::SeqCst),
                    // The hashing queue is full: refused at once.
                    Ok(503) | Ok(429) => refused.fetch_add(1, Ordering::SeqCst),
                    other => panic!("sign-in answered {other:?}"),
                };
            }
        }));
    }
    // Let the flood build up (the hashing queue is the process's: a test running beside
    // this one shares it), then push, three times over.
    let deadline = Instant::now() + Duration::from_secs(20);
    while answered.load(Ordering::SeqCst) < 10 {
        assert!(
            Instant::now() < deadline,
            "the sign-ins were never verified"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let bot = Bot::new(Mode::Plain, "oStall-user-1");
    let mut slowest = Duration::ZERO;
    let first_push = answered.load(Ordering::SeqCst);
    for _ in 0..3 {
        let (q, body) = bot.push(&bot.text_xml("帮助"), None);
        let started = Instant::now();
        let res = bot.post_raw(&app, &q, body).await;
        let took = started.elapsed();
        assert_eq!(res.status(), 200);
        let reply = bot.content_of(&res.text().await.unwrap());
        assert!(!reply.is_empty(), "no reply to help");
        slowest = slowest.max(took);
    }
    // The flood was still on after the pushes.
    let deadline = Instant::now() + Duration::from_secs(10);
    while answered.load(Ordering::SeqCst) <= first_push {
        assert!(Instant::now() < deadline, "the sign-ins stopped");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.store(true, Ordering::SeqCst);
    for f in flood {
        f.await.unwrap();
    }
    let verified = answered.load(Ordering::SeqCst);
    eprintln!(
        "blocked-worker test: slowest push {slowest:?}; {verified} sign-ins verified, {} refused as busy",
        refused.load(Ordering::SeqCst)
    );
    assert!(
        slowest < Duration::from_secs(5),
        "a bot push took {slowest:?} during the sign-in flood (the platform waits 5 s)"
    );
    let app = Arc::try_unwrap(app)
        .ok()
        .expect("the flood's clients are gone");
    app.stop().await;
    fake.handle.stop(true).await;
}
