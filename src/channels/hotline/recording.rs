//! The outbox job that fetches a call's recording and stores it as sealed evidence.

#[allow(unused_imports)]
use super::*;

/// Fetches a call's recording and stores it as sealed evidence.
pub struct RecordingHandler {
    db: Db,
    vault: Arc<Vault>,
    sources: Vec<HotlineSource>,
    limits: Limits,
}

/// The `hotline_recording` job: fetch the recording at `url` for the report's call.
#[derive(Serialize, Deserialize)]
pub struct RecordingJob {
    pub report_id: String,
    pub source: String,
    pub url: String,
}

impl notify::Job for RecordingJob {
    const KIND: &'static str = "hotline_recording";
    /// One fetch per report, however often the call centre resends the work order.
    fn dedupe_key(&self) -> Option<String> {
        Some(format!("{}:{}", Self::KIND, self.report_id))
    }
}

/// Why a download failed, as fixed codes (noted on the case and stored as the job's error,
/// so nothing the recording server said, nor its address, is kept).
pub(super) enum FetchError {
    /// The address is not allowed: never retried.
    Refused(&'static str),
    Permanent(FailCode),
    Retry(FailCode),
}

impl RecordingHandler {
    pub fn new(db: Db, vault: Arc<Vault>, config: &Config) -> Self {
        Self {
            db,
            vault,
            sources: config.hotline.clone(),
            limits: crate::channels::upload::evidence_limits(config),
        }
    }

    async fn run_job(&self, p: RecordingJob, job: &Claimed) -> Result<(), JobError> {
        let state: Option<String> =
            sqlx::query_scalar("SELECT recording FROM hotline_calls WHERE report_id = $1")
                .bind(&p.report_id)
                .fetch_optional(&self.db.pool)
                .await
                .map_err(JobError::retry)?;
        match state.as_deref() {
            None => return Err(JobError::permanent("no_hotline_call")),
            Some("stored") => return Ok(()),
            _ => {}
        }
        let allow = self
            .sources
            .iter()
            .find(|s| s.source == p.source)
            .map(|s| s.allow_recording_hosts.as_slice())
            .unwrap_or_default();
        let bytes = match fetch(&p.url, allow, self.limits.max_file_bytes).await {
            Ok(b) => b,
            Err(FetchError::Refused(why)) => {
                tracing::warn!(report_id = %p.report_id, reason = why, "hotline recording refused");
                self.record(&p.report_id, "refused", why).await?;
                return Err(JobError::permanent(why));
            }
            Err(FetchError::Permanent(why)) => {
                self.record(&p.report_id, "failed", why.as_str()).await?;
                return Err(JobError::Permanent(why));
            }
            Err(FetchError::Retry(why)) => {
                if job.attempts >= job.max_attempts {
                    self.record(&p.report_id, "failed", why.as_str()).await?;
                }
                return Err(JobError::Retry(why));
            }
        };
        let limits = self.limits.clone();
        let processed = tokio::task::spawn_blocking(move || evidence::process(bytes, &limits))
            .await
            .map_err(JobError::retry)?;
        let processed = match processed {
            Ok(p) => p,
            Err(e) => {
                tracing::info!(report_id = %p.report_id, reason = %e, "hotline recording not accepted as evidence");
                let why = "recording_not_evidence";
                self.record(&p.report_id, "failed", why).await?;
                return Err(JobError::permanent(why));
            }
        };
        let keys = self
            .vault
            .case_keys_for(&p.report_id)
            .await
            .map_err(JobError::retry)?;
        self.store(&p.report_id, &keys, processed)
            .await
            .map_err(JobError::retry)
    }

    async fn store(
        &self,
        report_id: &str,
        keys: &crate::vault::CaseKeys,
        processed: evidence::Processed,
    ) -> Result<(), sqlx::Error> {
        // Evidence numbers are for display order only (not unique), so reading the next one
        // outside the transaction is harmless.
        let next: Option<i64> =
            sqlx::query_scalar("SELECT MAX(seq) + 1 FROM evidence WHERE report_id = $1")
                .bind(report_id)
                .fetch_one(&self.db.pool)
                .await?;
        let sha256 = hex::encode(processed.original_sha256);
        let size = processed.original.len();
        let media_type = processed.media_type;
        let row = crate::intake::seal_evidence(
            keys,
            report_id,
            usize::try_from(next.unwrap_or(0)).unwrap_or(0),
            None,
            processed,
            Utc::now(),
        );
        let mut tx = self.db.begin().await?;
        // Write first (SQLite takes the write lock here), and store the recording once only.
        let claimed = sqlx::query(
            "UPDATE hotline_calls SET recording = 'stored', recording_evidence_id = $1 \
             WHERE report_id = $2 AND recording <> 'stored'",
        )
        .bind(&row.id)
        .bind(report_id)
        .execute(&mut *tx)
        .await?;
        if claimed.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(());
        }
        crate::intake::committer::insert_evidence(&mut tx, &row).await?;
        let data = serde_json::json!({
            "outcome": "stored", "evidence_id": row.id, "sha256": sha256,
            "size_bytes": size, "media_type": media_type,
        });
        insert_event(&mut tx, report_id, &data).await?;
        tx.commit().await?;
        tracing::info!(report_id = %report_id, evidence_id = %row.id, "hotline recording stored");
        Ok(())
    }

    /// Note on the case (staff side) that the recording could not be taken, and why.
    async fn record(&self, report_id: &str, outcome: &str, why: &str) -> Result<(), JobError> {
        let run = async {
            let mut tx = self.db.begin().await?;
            sqlx::query(
                "UPDATE hotline_calls SET recording = $1 WHERE report_id = $2 AND recording <> 'stored'",
            )
            .bind(outcome)
            .bind(report_id)
            .execute(&mut *tx)
            .await?;
            let data = serde_json::json!({ "outcome": outcome, "reason": why });
            insert_event(&mut tx, report_id, &data).await?;
            tx.commit().await
        };
        run.await.map_err(JobError::retry)
    }
}

pub(super) async fn insert_event(
    tx: &mut Tx<'_>,
    report_id: &str,
    data: &serde_json::Value,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO case_events (report_id, at, actor_id, kind, data) \
         VALUES ($1, $2, NULL, 'hotline_recording', $3)",
    )
    .bind(report_id)
    .bind(store::ts(Utc::now()))
    .bind(data.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl notify::Run<RecordingJob> for RecordingHandler {
    fn run<'a>(
        &'a self,
        payload: RecordingJob,
        job: &'a Claimed,
    ) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async move { self.run_job(payload, job).await })
    }
}

/// Download `url` under the address rules: the host is resolved here and every address
/// checked, and the client connects only to those addresses (no second lookup to rebind);
/// no proxy, no redirects, at most `max` bytes within [`RECORDING_TIMEOUT`]. Errors never
/// carry the URL (its query string may hold a token).
pub(super) async fn fetch(url: &str, allow: &[String], max: u64) -> Result<Vec<u8>, FetchError> {
    let u = reqwest::Url::parse(url).map_err(|_| FetchError::Refused("recording_not_a_url"))?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(FetchError::Refused("recording_not_http"));
    }
    let host = u
        .host_str()
        .ok_or(FetchError::Refused("recording_no_host"))?
        .to_string();
    let port = u
        .port_or_known_default()
        .ok_or(FetchError::Refused("recording_no_port"))?;
    let allowed = host_allowed(allow, &host);
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(RECORDING_TIMEOUT);
    if let Some(ip) = literal_ip(&host) {
        if !allowed && is_forbidden(ip) {
            return Err(FetchError::Refused("recording_address_not_allowed"));
        }
    } else {
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(|_| FetchError::Retry(FailCode::new("recording_host_unresolved")))?
            .collect();
        if addrs.is_empty() {
            return Err(FetchError::Retry(FailCode::new(
                "recording_host_unresolved",
            )));
        }
        if !allowed && addrs.iter().any(|a| is_forbidden(a.ip())) {
            return Err(FetchError::Refused("recording_address_not_allowed"));
        }
        // Connect only to the addresses just checked (no second lookup to rebind).
        builder = builder.resolve_to_addrs(&host, &addrs);
    }
    let client = builder
        .build()
        .map_err(|_| FetchError::Retry(FailCode::new("internal_error")))?;
    let resp = client
        .get(u)
        .send()
        .await
        .map_err(|e| FetchError::Retry(FailCode::http(&e)))?;
    let status = resp.status();
    if status.is_redirection() {
        // Redirects are not followed.
        return Err(FetchError::Permanent(FailCode::numbered(
            "recording_redirect",
            i64::from(status.as_u16()),
        )));
    }
    if !status.is_success() {
        let msg = FailCode::numbered("http", i64::from(status.as_u16()));
        return Err(
            if status.is_server_error() || status.as_u16() == 429 || status.as_u16() == 408 {
                FetchError::Retry(msg)
            } else {
                FetchError::Permanent(msg)
            },
        );
    }
    let too_large = || FetchError::Permanent(FailCode::new("recording_too_large"));
    if resp.content_length().is_some_and(|n| n > max) {
        return Err(too_large());
    }
    let mut buf = Vec::new();
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| FetchError::Retry(FailCode::http(&e)))?;
        if (buf.len() + chunk.len()) as u64 > max {
            return Err(too_large());
        }
        buf.extend_from_slice(&chunk);
    }
    if buf.is_empty() {
        return Err(FetchError::Permanent(FailCode::new("recording_empty")));
    }
    Ok(buf)
}
