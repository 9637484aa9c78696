//! What intake and the reporter's follow-up (look-up, messages, claims) can refuse, in
//! intake terms. Each refusal becomes an [`AppError`](crate::error::AppError) at the
//! module's edge; field validation errors name their field instead.

crate::error::refusals! {
    /// A refusal of a tip or of a follow-up.
    pub enum IntakeError {
        /// The same idempotency key with a different request body.
        IdempotencyConflict => (Conflict, "idempotency_conflict", "error-idempotency-conflict"),
        /// A message to a closed case.
        CaseClosed => (Conflict, "case_closed", "error-message-closed"),
        /// Too many failed look-ups or claims; the message names the minutes to wait.
        RateLimited => (RateLimited, "rate_limited", "error-rate-limited"),
        /// Too many tips filed from one client address; the message names the minutes.
        FilingRateLimited => (RateLimited, "rate_limited", "error-filing-rate-limited"),
    }
}
