//! What the reward steps can refuse, in reward terms (DOMAIN §5). Each refusal becomes an
//! [`AppError`](crate::error::AppError) at the module's edge; case-level refusals are the
//! workflow's own ([`crate::workflow::WorkflowError`]).

crate::error::refusals! {
    /// A refusal of a reward step.
    pub enum RewardError {
        NotFound => (NotFound, "reward_not_found", "error-reward-not-found"),
        /// Approving, returning or paying one's own proposal (maker-checker).
        OwnProposal => (Forbidden, "own_proposal", "error-reward-own-proposal"),
        WrongStatus => (Conflict, "wrong_reward_status", "error-reward-wrong-status"),
        /// The case's decision does not make its reporter eligible.
        Excluded => (Conflict, "not_eligible", "error-reward-excluded"),
        /// The facts were already known to the bureau.
        FactsKnown => (Conflict, "not_eligible", "error-reward-facts-known"),
        NoPolicy => (Conflict, "no_policy", "error-reward-no-policy"),
        NotDue => (Conflict, "reward_not_due", "error-reward-not-due"),
        AlreadyApproved => (Conflict, "already_approved", "error-reward-already-approved"),
        /// Above the threshold, finance must approve as well.
        FinanceApprovalRequired => (
            Conflict,
            "finance_approval_required",
            "error-reward-finance-required"
        ),
        /// A reversal needs a second person.
        ReversalSecondPerson => (
            Conflict,
            "reversal_second_person",
            "error-reward-reversal-second"
        ),
        BudgetExceeded => (Conflict, "budget_exceeded", "error-reward-budget"),
        AlreadyPaid => (Conflict, "already_paid", "error-reward-already-paid"),
        AlreadyClaimed => (Conflict, "already_claimed", "error-reward-already-claimed"),
        NoBankAccount => (Conflict, "no_bank_account", "error-reward-no-bank-account"),
        /// A bank-transfer claim on a tip whose reporter set no claim verifier.
        NoVerifier => (Invalid, "no_claim_verifier", "error-reward-no-verifier"),
        /// An in-person payment before two finance officers checked the identity.
        IdentityCheckRequired => (
            Conflict,
            "identity_check_required",
            "error-reward-identity-check-required"
        ),
        /// The second identity check by the officer who recorded the first.
        SecondOfficer => (Conflict, "second_officer_required", "error-reward-second-officer"),
        /// The identity check is already confirmed.
        IdentityChecked => (Conflict, "identity_already_checked", "error-reward-identity-checked"),
        /// The claim window has ended.
        Expired => (Conflict, "reward_expired", "error-reward-expired"),
    }
}
