# Staff-side messages and errors
error-unknown-role = Unknown role. Roles: intake, handler, supervisor, legal, finance, custodian, auditor, admin.
error-password-weak = The password must have at least 10 characters.
error-username = A username may contain letters, digits and . _ - @ (at most 64 characters).
error-username-taken = That username is taken.
error-invalid-credentials = Wrong username or password.
error-totp-required = Enter the 6-digit code from your authenticator app.
error-invalid-totp = The code is wrong or was already used; wait for the next one.
error-invalid-token = Your sign-in is not valid. Please sign in again.
error-token-expired = Your sign-in has expired. Refresh it or sign in again.
error-session-expired = Your session has ended. Please sign in again.
error-unauthenticated = Please sign in.
error-totp-enrollment-required = Your role requires a second factor (TOTP). Set it up first.
error-totp-already-enabled = TOTP is already enabled.
error-totp-not-started = Start TOTP set-up first.
error-invalid-setup-code = The setup code is wrong or already used.
error-admin-combined = An admin cannot hold any other role: admins manage accounts and configuration and see no case content or identity (intake, handler, supervisor, legal, finance, custodian and auditor cannot be combined with admin).
error-password-change-required = This is the password an admin set for you. Choose your own password before doing anything else.
error-password-unchanged = The new password must differ from the current one.
error-own-request = You cannot decide a request you made, or one about your own account; another admin must decide it.
error-own-account = You cannot change your own roles or reset your own authenticator; another admin must do it.
error-not-pending = This request has already been decided or withdrawn.
error-totp-not-enabled = This user has no authenticator set up; there is nothing to reset.
error-totp-reset-pending = This user already has an authenticator reset waiting for approval.
error-forbidden = You are not allowed to do this.
error-case-not-found = No such case.
error-record-not-found = No such record.
error-evidence-held-sealed = This file could not be cleaned of the metadata that may identify the reporter (for example an encrypted PDF), so it is held sealed and cannot be viewed here.
error-already-held = A legal hold is already in force on this case.
error-not-held = This case has no legal hold in force.
error-already-purged = This case's reporter data has already been purged; there is nothing left to hold.
error-evidence-purged = This file was deleted when the case's retention period ended.
error-text-names-reporter = This text names the reporter (a name, phone number, ID number, email or account of theirs). Remove it: a typical case never carries reporter data.
error-text-names-tracking-code = This text contains a tracking code. Remove it.
error-text-names-call-id = This text contains the hotline call id of the case. Remove it.
error-text-names-staff = This text names a member of staff. Remove the name.
error-not-substantiated = A typical case is drafted from a case decided substantiated or partly substantiated.
error-own-draft = You drafted this typical case; another person reviews and approves it.
error-typical-not-found = No such typical case.
error-typical-wrong-status = The typical case is “{ $status }”; this step is not possible now.
error-illegal-transition = The case is “{ $status }”; this step is not possible. Possible next statuses: { $allowed }.
error-wrong-status = The case is “{ $status ->
        [received] received
        [accepted] accepted
        [not_accepted] not accepted
        [transferred] transferred
        [merged] merged
        [checking] being checked
        [decided] decided
        [closed] closed
       *[other] { $status }
    }”; this action is not possible now.
error-concurrent-change = Someone else just changed this case. Reload and try again.
error-required = Please fill in “{ $field }”.
error-merge-target = A case can only be merged into an earlier, live case on the same facts that you may see.
error-decision-inconsistent = A “not substantiated” decision cannot carry verified or recovered amounts or penalties.
error-party-notice-required = Before an adverse decision the party concerned must be notified and given the chance to state their case.
error-defence-period-open = The party's period for statement and defence runs until { $due }; decide after it.
error-collective-decision-required = This needs a collective decision first.
error-legal-review-required = This needs an approving legal review first.
error-two-inspectors = An on-site check needs at least two inspectors; name them.
error-date = Dates are written YYYY-MM-DD.
error-three-participants = A collective decision needs at least three participants.
error-already-major = The case is already marked major.
error-extension-pending = An extension request is already waiting for approval.
error-already-decided = This request has already been decided.
error-not-major = Only major cases can be extended to six months.
error-no-open-clock = There is no running handling deadline to extend.
error-assignee = Cases can only be assigned to active handlers of the case's region.
error-assignee-recused = That person has a declared conflict with the reported institution.
error-anonymous-reporter = An anonymous reporter left no identity to reveal.
error-already-revealed = This request's identity was already shown; it is shown only once.
error-not-approved = This request has not been approved.

ground-outside_scope = The matter is outside the scope of medical-insurance fund supervision.
ground-no_clear_target = The report names no clear target or concrete leads.
ground-under_investigation = The matter is already under investigation.
ground-closed_no_new_lead = The matter was already closed and the report brings no new lead.
ground-litigation_or_review = The matter belongs to litigation, arbitration or administrative review.

feedback-staff-message = A message from the case officer: { $body }

email-open-console = Open in the console
email-footer = Sent automatically by the medical-insurance fraud reporting system. Please do not reply.
email-deadline-reminder-subject = [Reminder] Case { $case }: deadline on { $due }
email-deadline-reminder-body =
    Dear { $name },

    The “{ $clock }” deadline of case { $case } (region { $region }) ends on { $due }. Please act on it in time.
email-deadline-today-subject = [Due today] Case { $case }: deadline today
email-deadline-today-body =
    Dear { $name },

    The “{ $clock }” deadline of case { $case } (region { $region }) ends today ({ $due }).
email-deadline-overdue-subject = [Escalated] Case { $case } is { $days_late } working days overdue
email-deadline-overdue-body =
    Dear { $name },

    The “{ $clock }” deadline of case { $case } (region { $region }) ended on { $due }. It is { $days_late } working days overdue and has been escalated.
email-major-case-subject = [Major case] Region { $region } reports case { $case }
email-major-case-body =
    Dear { $name },

    Region { $region } has marked case { $case } as a major case. Please follow it and guide its handling.
email-reporter-update-subject = News about your report (tracking code { $tracking_code })
email-reporter-update-body =
    Hello,

    { $update }

    You can see the full progress on the reporting page with your tracking code and passcode. Thank you for helping protect the medical-insurance fund.
email-deadline-moved-earlier-subject = [Earlier deadline] Case { $case } is now due on { $due }
email-deadline-moved-earlier-body =
    Dear { $name },

    With the new public-holiday notice, the “{ $clock }” deadline of case { $case } (region { $region }) moved from { $from } to { $due }. Please work to the new date.
error-approval-expired = The approval has expired (it must be used within the set time). Ask again if you still need it.
error-approval-withdrawn = A custodian who approved this may no longer approve it (role, region or recusal changed). Ask again.
error-requester-ineligible = The requester may no longer see this case (role, region or recusal changed), so it cannot be approved.
error-reveal-needs-totp = Turn on the authenticator code on the "My account" page before viewing a reporter's identity.
error-not-an-identity-request = This request is for an evidence original: download the original from the case's evidence.
error-original-needs-request = An evidence original may identify the reporter: it is opened only through a request a custodian approved. Ask first.
