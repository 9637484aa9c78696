# Rewards and finance (DOMAIN §5)
error-reward-not-found = No reward was found.
error-reward-wrong-status = The reward is “{ $status ->
        [pending] not told yet
        [proposed] proposed
        [returned] returned
        [approved] approved
        [notified] told to the reporter
        [claimed] claimed
        [paid] paid
        [expired] expired
        [reversed] reversed
       *[other] { $status }
    }”; this step is not possible now.
error-reward-not-due = The decision on this case does not grant a reward.
error-reward-no-loss-range = A reward for a tip that caused no loss must be between { $min } and { $max } yuan.
error-reward-no-loss-with-loss = A case with a verified loss cannot take a no-loss amount.
error-reward-no-policy = No reward policy is in force for region { $region } on { $date }.
error-reward-facts-known = The facts were already known: no reward.
error-reward-excluded = The reporter may not be rewarded.
error-reward-own-proposal = You cannot approve or pay a reward you proposed.
error-reward-already-approved = You have already approved this reward; another person must approve.
error-reward-finance-required = Finance must approve this reward first.
error-reward-budget = The reward budget is not enough ({ $region }, balance { $balance } yuan).
error-reward-already-paid = This reward has already been paid.
error-reward-amount-mismatch = The amount paid must equal the approved reward of { $amount } yuan.
error-reward-no-bank-account = The reporter gave no bank account; pay in person instead.
error-reward-id-last6 = Enter the last six characters of the ID number (the last may be X).
error-reward-id-mismatch = The last six characters of the ID number do not match.
error-reward-reversal-second = Reversing a reward needs one supervisor and one finance officer.
error-reward-expired = The claim period has ended and the reward has expired.
error-reward-already-claimed = The reward has already been claimed.
error-reward-bank-account = A bank account number has 10 to 30 digits.
error-reward-co-reporters-too-many = At most { $max } co-reporters can share a reward.
error-reward-co-reporter-unknown = “{ $tip }” is neither this case nor a tip merged into it.
error-reward-co-reporter-duplicate = The tip “{ $tip }” is listed more than once.
error-reward-co-reporter-excluded = The reporter of “{ $tip }” may not be rewarded.
error-reward-co-reporter-weight = A co-reporter's weight is a whole number from 1 to { $max }.
error-reward-co-reporter-zero-share = With these weights a co-reporter's share would be less than 1 fen.
error-reward-co-reporters-first = The co-reporters must include the first valid reporter (case { $tip }).
error-reward-share-required = This reward is shared between co-reporters: name the tip whose share is paid.
error-reward-share-unknown = “{ $tip }” has no share in this reward.
timeline-reward_notified = Your report qualifies for a reward. Please claim it as described.
timeline-reward_claimed = You have claimed your reward; it will be paid soon.
timeline-reward_paid = Your reward has been paid.
timeline-reward_expired = The claim period has ended and the reward has expired.
timeline-reward_claim_reminder = The claim period for your reward ends soon.
timeline-reward_reversed = After review, the reward has been withdrawn.
reward-notice-note = Reward: { $amount } yuan. Please claim it with your tracking code and passcode by { $claim_by }.
reward-share-notice-note = Your share of the joint reward: { $amount } yuan (of { $total } yuan in all). Please claim it with your tracking code and passcode by { $claim_by }.
reward-claim-reminder-note = Please claim your reward by { $claim_by }; after that it expires.
field-bank_account = Bank account
field-id_last6 = Last six characters of the ID number
field-no_loss_amount_fen = No-loss reward amount
field-grade = Evidence grade
field-amount_fen = Amount
field-reference = Payment reference
field-paid_on = Payment date
field-year = Year
field-region = Region
field-excluded_merged = Excluded merged tips
field-co_reporters = Co-reporters
field-co_reporters-tip = Co-reporter's tip
field-co_reporters-weight = Co-reporter's weight
field-tip = Tip
error-reward-verifier-required = A bank transfer needs the last six characters of the ID number set with the report.
error-reward-no-verifier = This report has no claim verifier, so the reward cannot be paid by transfer: collect it in person, where two finance officers check your identity.
error-reward-identity-check-required = An in-person payment needs the claimant's identity checked by two finance officers first.
error-reward-second-officer = The identity check must be confirmed by a different finance officer.
error-reward-identity-checked = The identity check is already confirmed.
