//! What a case operation can refuse, in workflow terms. Each refusal becomes an
//! [`AppError`](crate::error::AppError) (its kind, stable code and message) at the module's
//! edge; only the web layer knows HTTP.

crate::error::refusals! {
    /// A refusal of a case operation.
    pub enum WorkflowError {
        /// The caller's roles, region or recusals do not allow this.
        Forbidden => (Forbidden, "forbidden", "error-forbidden"),
        /// No such case, or not one the caller may see (the same answer for both).
        CaseNotFound => (NotFound, "case_not_found", "error-case-not-found"),
        RecordNotFound => (NotFound, "not_found", "error-record-not-found"),
        /// The case's status does not allow this operation.
        WrongStatus => (Conflict, "wrong_status", "error-wrong-status"),
        IllegalTransition => (Conflict, "illegal_transition", "error-illegal-transition"),
        /// Someone changed the case since the caller read it (`version`).
        ConcurrentChange => (Conflict, "concurrent_change", "error-concurrent-change"),
        AlreadyDecided => (Conflict, "already_decided", "error-already-decided"),
        /// A decision with a large recovered amount needs a collective decision first.
        CollectiveDecisionRequired => (
            Conflict,
            "collective_decision_required",
            "error-collective-decision-required"
        ),
        LegalReviewRequired => (Conflict, "legal_review_required", "error-legal-review-required"),
        /// The party must be told of a penalty before it is decided (DOMAIN §4).
        PartyNoticeRequired => (Conflict, "party_notice_required", "error-party-notice-required"),
        DefencePeriodOpen => (Conflict, "defence_period_open", "error-defence-period-open"),
        ExtensionPending => (Conflict, "extension_pending", "error-extension-pending"),
        AlreadyMajor => (Conflict, "already_major", "error-already-major"),
        NotMajor => (Conflict, "not_major", "error-not-major"),
        NoOpenClock => (Conflict, "no_open_clock", "error-no-open-clock"),
        /// An identity reveal that has not been approved.
        NotApproved => (Conflict, "not_approved", "error-not-approved"),
        /// A reveal asked for an anonymous reporter: there is nothing to reveal.
        AnonymousReporter => (Conflict, "anonymous_reporter", "error-anonymous-reporter"),
        /// An approved reveal that was already used.
        AlreadyRevealed => (Gone, "already_revealed", "error-already-revealed"),
        /// An approval not used within `[identity] approval_hours`.
        ApprovalExpired => (Gone, "approval_expired", "error-approval-expired"),
        /// A custodian who approved no longer may (role, region, recusal, account).
        ApprovalWithdrawn => (Conflict, "approval_withdrawn", "error-approval-withdrawn"),
        /// The requester no longer may see the case (role, region, recusal, account).
        RequesterIneligible => (Conflict, "requester_ineligible", "error-requester-ineligible"),
        /// A request for an evidence original is used by downloading that original.
        NotAnIdentityRequest => (Conflict, "not_an_identity_request", "error-not-an-identity-request"),
        /// The original of an evidence file is opened only through an approved request.
        OriginalNeedsRequest => (Forbidden, "original_needs_request", "error-original-needs-request"),
        /// Whoever sees an identity has signed in with a second factor.
        RevealNeedsTotp => (Forbidden, "totp_required_for_identity", "error-reveal-needs-totp"),
        /// Evidence held sealed (not sanitizable) is released only through a custodian.
        EvidenceHeldSealed => (Conflict, "evidence_held_sealed", "error-evidence-held-sealed"),
        /// A legal hold is already in force on the case.
        AlreadyHeld => (Conflict, "already_held", "error-already-held"),
        /// No legal hold in force to lift.
        NotHeld => (Conflict, "not_held", "error-not-held"),
        /// The case's identity was purged: nothing is left to hold.
        AlreadyPurged => (Conflict, "already_purged", "error-already-purged"),
        /// The file was purged when the case's retention period ended.
        EvidencePurged => (Conflict, "evidence_purged", "error-evidence-purged"),
        /// A typical case's text names the reporter (any spelling the check can see).
        TextNamesReporter => (Invalid, "names_reporter", "error-text-names-reporter"),
        TextNamesTrackingCode => (Invalid, "names_tracking_code", "error-text-names-tracking-code"),
        TextNamesCallId => (Invalid, "names_call_id", "error-text-names-call-id"),
        TextNamesStaff => (Invalid, "names_staff", "error-text-names-staff"),
        /// A typical case is drafted from a case decided substantiated (or partly).
        NotSubstantiated => (Conflict, "not_substantiated", "error-not-substantiated"),
        /// The drafter of a typical case may not review or approve it.
        OwnDraft => (Forbidden, "own_draft", "error-own-draft"),
        TypicalNotFound => (NotFound, "typical_case_not_found", "error-typical-not-found"),
        /// The typical case is not in a status that allows this step.
        TypicalWrongStatus => (Conflict, "typical_wrong_status", "error-typical-wrong-status"),
    }
}
