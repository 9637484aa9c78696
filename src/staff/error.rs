//! What signing in, sessions and staff accounts can refuse, in staff terms. Each refusal
//! becomes an [`AppError`] (its kind, stable code and message) at the module's edge; the
//! web layer alone turns the kind into an HTTP status.

use crate::error::{AppError, Kind};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaffError {
    /// Wrong username or password, or a locked account: one answer for all three, so it
    /// tells no one which usernames exist.
    InvalidCredentials,
    TotpRequired,
    InvalidTotp,
    /// The one-time code field of the TOTP confirmation.
    InvalidTotpCode,
    InvalidSetupCode,
    /// No bearer token.
    Unauthenticated,
    InvalidToken,
    TokenExpired,
    SessionExpired,
    /// The bounded password-hashing queue is full.
    Busy,
    /// Too many failed sign-ins from one client address; the message names the minutes.
    RateLimited,
    UsernameTaken,
    TotpAlreadyEnabled,
    TotpNotStarted,
    /// A role that needs two factors, signed in without them.
    TotpEnrollmentRequired,
    /// `admin` together with a role that sees case content or identity (DOMAIN §6).
    AdminCombined,
    /// The account must choose its own password first; the session serves only that.
    PasswordChangeRequired,
    /// The new password is the one the account already has.
    PasswordUnchanged,
    /// A second-admin request decided by the admin who made it (or concerning them).
    OwnRequest,
    /// An admin changing their own roles or asking to reset their own TOTP.
    OwnAccount,
    /// No such user, role grant or TOTP reset request.
    NotFound,
    /// The request was already approved, refused or withdrawn.
    NotPending,
    /// A TOTP reset for an account without TOTP.
    TotpNotEnabled,
    /// A TOTP reset for an account that already has one waiting.
    TotpResetPending,
}

impl From<StaffError> for AppError {
    fn from(e: StaffError) -> Self {
        use StaffError::*;
        let (kind, code, msg, field) = match e {
            InvalidCredentials => (
                Kind::Unauthorized,
                "invalid_credentials",
                "error-invalid-credentials",
                None,
            ),
            TotpRequired => (
                Kind::Unauthorized,
                "totp_required",
                "error-totp-required",
                Some("totp"),
            ),
            InvalidTotp => (
                Kind::Unauthorized,
                "invalid_totp",
                "error-invalid-totp",
                Some("totp"),
            ),
            InvalidTotpCode => (
                Kind::Unauthorized,
                "invalid_totp",
                "error-invalid-totp",
                Some("code"),
            ),
            InvalidSetupCode => (
                Kind::Unauthorized,
                "invalid_setup_code",
                "error-invalid-setup-code",
                Some("setup_code"),
            ),
            Unauthenticated => (
                Kind::Unauthorized,
                "unauthenticated",
                "error-unauthenticated",
                None,
            ),
            InvalidToken => (
                Kind::Unauthorized,
                "invalid_token",
                "error-invalid-token",
                None,
            ),
            TokenExpired => (
                Kind::Unauthorized,
                "token_expired",
                "error-token-expired",
                None,
            ),
            SessionExpired => (
                Kind::Unauthorized,
                "session_expired",
                "error-session-expired",
                None,
            ),
            Busy => (Kind::Unavailable, "busy", "error-unavailable", None),
            RateLimited => (
                Kind::RateLimited,
                "rate_limited",
                "error-login-rate-limited",
                None,
            ),
            UsernameTaken => (
                Kind::Conflict,
                "username_taken",
                "error-username-taken",
                Some("username"),
            ),
            TotpAlreadyEnabled => (
                Kind::Conflict,
                "totp_already_enabled",
                "error-totp-already-enabled",
                None,
            ),
            TotpNotStarted => (
                Kind::Conflict,
                "totp_not_started",
                "error-totp-not-started",
                None,
            ),
            TotpEnrollmentRequired => (
                Kind::Forbidden,
                "totp_enrollment_required",
                "error-totp-enrollment-required",
                None,
            ),
            AdminCombined => (
                Kind::Invalid,
                "admin_combined",
                "error-admin-combined",
                Some("roles"),
            ),
            PasswordChangeRequired => (
                Kind::Forbidden,
                "password_change_required",
                "error-password-change-required",
                None,
            ),
            PasswordUnchanged => (
                Kind::Invalid,
                "password_unchanged",
                "error-password-unchanged",
                Some("new_password"),
            ),
            OwnRequest => (Kind::Forbidden, "own_request", "error-own-request", None),
            OwnAccount => (Kind::Forbidden, "own_account", "error-own-account", None),
            NotFound => (Kind::NotFound, "not_found", "error-record-not-found", None),
            NotPending => (Kind::Conflict, "not_pending", "error-not-pending", None),
            TotpNotEnabled => (
                Kind::Conflict,
                "totp_not_enabled",
                "error-totp-not-enabled",
                None,
            ),
            TotpResetPending => (
                Kind::Conflict,
                "totp_reset_pending",
                "error-totp-reset-pending",
                None,
            ),
        };
        let err = AppError::new(kind, code, msg);
        match field {
            Some(f) => err.field(f),
            None => err,
        }
    }
}
