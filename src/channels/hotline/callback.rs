//! Status feedback to the call centre: a signed POST to the source's `callback_url`.

#[allow(unused_imports)]
use super::*;

/// The `hotline` feedback sender: a signed POST to the source's `callback_url`.
pub struct CallbackSender {
    db: Db,
    sources: Vec<HotlineSource>,
    client: reqwest::Client,
}

impl CallbackSender {
    pub fn new(db: Db, config: &Config) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(CALLBACK_TIMEOUT)
            .build()?;
        Ok(Self {
            db,
            sources: config.hotline.clone(),
            client,
        })
    }

    async fn send_one(&self, n: &Notice) -> Result<(), JobError> {
        let row: Option<(String, String)> =
            sqlx::query_as("SELECT source, call_id FROM hotline_calls WHERE report_id = $1")
                .bind(&n.report_id)
                .fetch_optional(&self.db.pool)
                .await
                .map_err(JobError::retry)?;
        let Some((source, call_id)) = row else {
            return Err(JobError::permanent("no_hotline_call"));
        };
        let Some(src) = self.sources.iter().find(|s| s.source == source) else {
            return Err(JobError::permanent("hotline_source_gone"));
        };
        let Some(url) = src.callback_url.as_deref().filter(|u| !u.is_empty()) else {
            return Err(JobError::permanent("hotline_no_callback_url"));
        };
        let now = Utc::now();
        let body = serde_json::to_vec(&serde_json::json!({
            "call_id": call_id,
            "status": n.status,
            "text": n.text,
            "at": now.to_rfc3339_opts(SecondsFormat::Secs, true),
        }))
        .map_err(|_| JobError::permanent("unencodable_notice"))?;
        let ts = now.timestamp().to_string();
        let signature = sign(src.secret.as_bytes(), &ts, &body);
        let resp = self
            .client
            .post(url)
            .header(header::CONTENT_TYPE.as_str(), "application/json")
            .header("X-Jubao-Timestamp", ts)
            .header("X-Jubao-Signature", signature)
            .body(body)
            .send()
            .await
            .map_err(JobError::retry)?;
        if !resp.status().is_success() {
            // The call centre's answer (which may quote the call) is not read.
            return Err(JobError::Retry(FailCode::numbered(
                "http",
                i64::from(resp.status().as_u16()),
            )));
        }
        tracing::info!(report_id = %n.report_id, source = %source, "hotline callback delivered");
        Ok(())
    }
}

impl Sender for CallbackSender {
    fn send<'a>(&'a self, notice: &'a Notice) -> BoxFuture<'a, Result<Delivery, JobError>> {
        Box::pin(async move {
            self.send_one(notice).await?;
            Ok(Delivery::Sent("hotline"))
        })
    }
}
