//! A read deadline on every request body: `[server] body_timeout_secs`, plus one second for
//! every `[server] body_min_bytes_per_sec` bytes that have arrived. A body that trickles
//! more slowly than that is cut: whatever was reading it sees the stream break, and the
//! answer is replaced by the CONTRACT §7 408 (`body_timeout`), with the connection closed.
//! (Headers have their own limit, `[server] header_timeout_secs`, actix's
//! `client_request_timeout`.) Every reader of a body — JSON, forms, the bots, the hotline,
//! the staff API — goes through this, so none needs a timer of its own.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::web;
use actix_web::HttpMessage;
use bytes::Bytes;
use futures_util::Stream;
use tokio::time::{Instant, Sleep};

use super::AppState;
use crate::error::{AppError, Kind};
use crate::i18n::Locale;

/// The request's payload, cut at its deadline.
struct Deadline {
    inner: Payload,
    sleep: Pin<Box<Sleep>>,
    start: Instant,
    base: Duration,
    rate: u64,
    received: u64,
    fired: Arc<AtomicBool>,
    done: bool,
}

impl Stream for Deadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                this.received += chunk.len() as u64;
                let earned = Duration::from_secs_f64(this.received as f64 / this.rate as f64);
                this.sleep.as_mut().reset(this.start + this.base + earned);
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(None) => {
                this.done = true;
                Poll::Ready(None)
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e))),
            Poll::Pending => {
                if this.sleep.as_mut().poll(cx).is_ready() {
                    this.done = true;
                    this.fired.store(true, Ordering::SeqCst);
                    return Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "request body deadline",
                    )))));
                }
                Poll::Pending
            }
        }
    }
}

/// The middleware: wrap the payload, and answer 408 when its deadline cut it.
pub async fn body_deadline(
    mut req: ServiceRequest,
    next: actix_web::middleware::Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let Some((base, rate)) = req.app_data::<web::Data<AppState>>().map(|s| {
        let server = &s.config.server;
        (
            server.body_timeout_secs.std(),
            u64::from(server.body_min_bytes_per_sec),
        )
    }) else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    let fired = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let wrapped = Deadline {
        inner: req.take_payload(),
        sleep: Box::pin(tokio::time::sleep_until(start + base)),
        start,
        base,
        rate: rate.max(1),
        received: 0,
        fired: fired.clone(),
        done: false,
    };
    let stream: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> = Box::pin(wrapped);
    req.set_payload(Payload::from(stream));
    let locale = Locale::from_accept_language(
        req.headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    );
    let res = next.call(req).await?;
    if !fired.load(Ordering::SeqCst) {
        return Ok(res.map_into_left_body());
    }
    let (req, _) = res.into_parts();
    let timeout = AppError::new(Kind::Timeout, "body_timeout", "error-body-timeout")
        .in_locale(locale)
        .error_response_owned();
    Ok(ServiceResponse::new(req, timeout).map_into_right_body())
}
