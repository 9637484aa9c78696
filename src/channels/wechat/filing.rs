//! Filing the guided report through intake (like every channel), queueing its media, and
//! the status look-up by tracking code and passcode.

#[allow(unused_imports)]
use super::*;

impl Bots {
    /// File the guided report through intake, like every channel; queue its media.
    pub(super) async fn file_report(
        &self,
        intake: &Intake,
        a: &Account,
        digest: &[u8; 32],
        m: &Inbound,
        draft: ReportDraft,
        locale: Locale,
    ) -> Vec<Msg> {
        match self.try_file(intake, a, digest, m, &draft, locale).await {
            Ok(receipt) => {
                let mut out = vec![Msg::new("bots-report-filed")
                    .arg("tracking_code", receipt.tracking_code)
                    .arg("passcode", receipt.passcode)
                    .arg("accept_by", receipt.accept_by)];
                if receipt.accept_by_provisional {
                    out.push(Msg::new("bots-accept-by-provisional"));
                }
                if !draft.media.is_empty() {
                    out.push(
                        Msg::new("bots-media-queued").arg("count", draft.media.len().to_string()),
                    );
                }
                out
            }
            Err(e) => {
                if e.kind.is_server() {
                    tracing::error!(error = %e, "filing a bot report failed");
                } else {
                    tracing::info!(code = e.code, field = ?e.field, "bot report refused by intake");
                }
                vec![Msg::new("bots-report-failed")]
            }
        }
    }

    async fn try_file(
        &self,
        intake: &Intake,
        a: &Account,
        digest: &[u8; 32],
        m: &Inbound,
        draft: &ReportDraft,
        locale: Locale,
    ) -> Result<Receipt, AppError> {
        let json = serde_json::to_vec(&draft.to_json()).map_err(AppError::internal)?;
        let (raw, locale) = parse_json::<RawReport>(&json, locale)?;
        let mut tip = to_new_tip(raw, locale, intake.today())?;
        tip.identity
            .set(IdentityField::Openid, Some(m.from_user.clone()));
        use sha2::Digest;
        let idem = IdempotencyKey {
            scope: format!("bot-{}", a.platform.code()),
            key: hex::encode(digest),
            request: sha2::Sha256::digest(&json).to_vec(),
        };
        let receipt = match intake
            .submit(a.platform.channel(), tip, vec![], Some(idem))
            .await?
        {
            Submitted::Created(r) => r,
            Submitted::Replayed { body, .. } => {
                serde_json::from_value::<Receipt>(body).map_err(AppError::internal)?
            }
        };
        let report_id: Option<String> = if receipt.report_id.is_empty() {
            sqlx::query_scalar("SELECT id FROM reports WHERE tracking_code = $1")
                .bind(&receipt.tracking_code)
                .fetch_optional(&self.db.pool)
                .await?
        } else {
            Some(receipt.report_id.clone())
        };
        if let Some(report_id) = report_id {
            let mut tx = self.db.begin().await?;
            let first_time = sqlx::query(
                "INSERT INTO bot_reporters (report_id, platform, account, created_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (report_id) DO NOTHING",
            )
            .bind(&report_id)
            .bind(a.platform.code())
            .bind(&a.name)
            .bind(crate::store::ts(Utc::now()))
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            // "不知道是哪一类": filed as `other`; the handler is asked to classify it (once,
            // also when a retried push replays the filing).
            if draft.needs_classification && first_time {
                sqlx::query(
                    "INSERT INTO case_events (report_id, at, actor_id, kind, data) \
                     VALUES ($1, $2, NULL, 'category_unsure', $3)",
                )
                .bind(&report_id)
                .bind(crate::store::ts(Utc::now()))
                .bind(
                    serde_json::json!({
                        "note": "the reporter did not know the category; please classify"
                    })
                    .to_string(),
                )
                .execute(&mut *tx)
                .await?;
            }
            for media in &draft.media {
                let job = jobs::MediaJob {
                    report_id: report_id.clone(),
                    media_id: media.media_id.clone(),
                    kind: match media.kind {
                        dialog::MediaKind::Image => "image".into(),
                        dialog::MediaKind::Voice => "voice".into(),
                    },
                };
                crate::notify::enqueue(
                    &mut tx,
                    &crate::notify::NewJob::of(&job),
                    self.max_attempts,
                )
                .await?;
            }
            tx.commit().await?;
        }
        Ok(receipt)
    }

    /// The status look-up of `查询`, under the same rate limits as the H5 page (the
    /// "client" is the chat user's digest).
    pub(super) async fn lookup(
        &self,
        intake: &Intake,
        user: &[u8; 32],
        code: &str,
        passcode: &str,
        locale: Locale,
    ) -> Msg {
        let client = format!("bot:{}", hex::encode(user));
        let code = tracking::normalize_code(code).unwrap_or_else(|| code.to_string());
        let who = match intake
            .authenticate(&code, passcode, &client, self.lookup_limits)
            .await
        {
            Ok(w) => w,
            Err(e) if e.kind == crate::error::Kind::RateLimited => {
                let minutes = (self.lookup_limits.window_secs + 59) / 60;
                return Msg::new("bots-status-rate-limited").arg("minutes", minutes.to_string());
            }
            Err(e) if e.kind == crate::error::Kind::NotFound => {
                return Msg::new("bots-status-not-found")
            }
            Err(e) => {
                tracing::error!(error = %e, "bot status look-up failed");
                return Msg::new("bots-internal-error");
            }
        };
        match intake.view(&who, locale).await {
            Ok(v) => {
                let at = v
                    .timeline
                    .last()
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t.at).ok())
                    .map(|t| {
                        t.with_timezone(&chrono_tz::Asia::Shanghai)
                            .format("%Y-%m-%d %H:%M")
                            .to_string()
                    })
                    .unwrap_or_default();
                Msg::new("bots-status-result")
                    .arg("status", v.status_label)
                    .arg("at", at)
            }
            Err(e) => {
                tracing::error!(error = %e, "bot status view failed");
                Msg::new("bots-internal-error")
            }
        }
    }
}
