# Chat-bot texts (WeChat Official Account, WeCom). Short sentences, numbered options,
# and always a way out. All variables are strings supplied by the engine.

## Welcome, help and global commands
bots-welcome =
    Welcome to the medical-insurance fund reporting service!
    If you know of fraud against the medical-insurance fund, you can report it here. Reply with a number or a word:
    1 or “report”: make a report
    2 or “status”: check a report
    3 or “help”: how this works
    如需中文，请回复“中文”。
bots-help =
    How this works:
    Reply “report”: we ask one question at a time and you answer each one.
    Reply “status”: check the progress of a report with its tracking code and passcode.
    Reply “cancel”: stop at any time; nothing you typed is kept.
    You may report anonymously. Named reporters can receive a reward if the report is substantiated and are told the outcome; identity details are stored encrypted.
    You can also call the 12393 medical-insurance hotline.
    如需中文，请回复“中文”。
bots-help-in-flow = You are in the middle of a report. Just answer the question below:
bots-unknown =
    Hello! I did not understand that.
    Reply “report” to make a report, “status” to check one, or “help” for instructions.
bots-expired = Your previous conversation was inactive for more than 30 minutes, so it was cleared to protect your information. Please start again if you need to.
bots-cancelled = OK, cancelled. Nothing you typed has been kept. Reply “report” whenever you want to start again.
bots-nothing-to-cancel = There is nothing to cancel. Reply “report” to make a report or “help” for instructions.
bots-restarted = OK, let us start from the beginning.
bots-language-set = OK, I will use English from now on.

## Photos and voice
bots-media-outside = I cannot take photos or voice messages at this point. Once you have started a report, send them when we reach the “evidence” question. If you have not started yet, reply “report” first.
bots-media-received = Item { $count } received. Send more if you have them; reply “done” when you are finished.
bots-media-full = { $max } items received, which is the most we can take. Let us continue.

## Answers that were not understood
bots-cannot-skip = This question needs an answer; it cannot be skipped.
bots-stuck = That was attempt { $attempt } and it has not worked yet; no problem. Reply “help” for instructions or “cancel” to stop and come back later. You can also call the 12393 medical-insurance hotline.
bots-hint-text = You wrote { $chars } characters; this answer needs { $min } to { $max }.
bots-hint-choice = Sorry, I did not understand. Please reply with the number in front of your choice, for example { $example } ({ $example_label }).
bots-hint-multi = Sorry, I did not understand. Please reply with the numbers of your choices, separated by spaces, for example { $example } ({ $example_label }).
bots-hint-yes-no = Please reply 1 (yes) or 2 (no).
bots-hint-date = Sorry, I did not understand when. You can write { $example }, 2025-03 for a whole month, or “last month”. Reply “skip” if you do not remember.
bots-hint-amount = Sorry, I did not understand the amount. Please write a number of yuan, for example { $example }. Reply “skip” if you are not sure.
bots-hint-region = A region code has 6 digits, for example 371502.
bots-hint-resident-id = This ID number is not valid. Please check all 18 characters (the last may be X).
bots-hint-phone = This mobile number is not valid. Please write the 11 digits, for example 13800138000.
bots-hint-email = This e-mail address is not valid. Please write the whole address, for example zhangsan@example.cn.
bots-hint-media = Please send photos or voice messages. Reply “done” when you are finished.
bots-hint-location = Please write the address (at least 2 characters) or send a location.
bots-hint-id-last6 = This needs the last 6 characters of your ID number: 5 digits, then a digit or X. To leave it out, reply "skip".
bots-hint-digits = This needs { $len } digits. Please check and send it again.
bots-hint-confirm = Please reply 1 to submit or 2 to start again.

## Lists
bots-option = { $n }. { $label }
bots-yes = Yes
bots-no = No
bots-list-separator = { "; " }

## The report
bots-report-intro = OK, we will go step by step; there are about 10 questions. Reply “cancel” at any time to stop.
bots-report-ask-description =
    Please tell us what happened.
    For example: which hospital, pharmacy or person, what they did, and how the fund was cheated.
    The more detail the better; at least 10 characters. You can also send a voice message.
bots-report-hint-description = You wrote { $chars } characters. Please add a little more; at least { $min } are needed.
bots-report-ask-categories = What kind of problem is it? Reply with numbers; you may choose several, separated by spaces, for example: 1 3
bots-report-ask-categories-suggested = It sounds like: { $value }. Is that right? Reply “yes”, or reply with other numbers from the list, separated by spaces. If you do not know which kind it is, reply “don't know”.
bots-report-hint-categories = Sorry, I did not understand. Please reply with the numbers of your choices, separated by spaces, for example { $example } ({ $example_label }). If you do not know which kind it is, reply “don't know”.
bots-report-categories-unsure = That is fine: we record it as “other” and our staff will classify it.
bots-cat-fake-patient = Fake patients, sham visits
bots-cat-fake-condition = Made-up illness
bots-cat-fake-documents = Forged records or receipts
bots-cat-fictitious-services = Billing for services never given
bots-cat-identity-misuse = Using someone else’s insurance card, lending a card
bots-cat-split-or-bed = Split or “bed-only” hospital stays
bots-cat-excessive-treatment = Unnecessary tests, treatment or medicine
bots-cat-overcharging = Double or excessive charges
bots-cat-substitution = Billing one drug, item or service as another
bots-cat-drug-resale = Reselling medicine, trading the card for cash or goods
bots-cat-out-of-scope = Non-covered costs billed to the insurance
bots-cat-duplicate-benefits = Claiming the same benefit twice
bots-cat-agency-misconduct = Misconduct by the insurance agency
bots-cat-other = Something else
bots-report-ask-target-name = Who is being reported? Please write the name of the hospital, clinic or pharmacy, or the person’s name.
bots-report-ask-target-name-offer = Is the target “{ $value }”? Reply “yes” if so; otherwise, or if you know the full name, please write the name.
bots-report-hint-target-name = Please write the name of the organisation or person (at least 2 characters).
bots-report-ask-target-kind = What kind of target is it? Reply with a number:
bots-report-kind-inferred = From the name, the kind of target is recorded as: { $value }.
bots-kind-hospital = Hospital
bots-kind-clinic = Clinic or village health room
bots-kind-pharmacy = Pharmacy
bots-kind-insured-person = An insured person
bots-kind-agency-staff = Insurance agency staff
bots-kind-other = Other
bots-report-ask-place = Where did it happen? Write the address or send a location. A 6-digit region code also works. Reply “skip” if you are not sure.
bots-report-hint-place = Please write the address (at least 2 characters) or send a location. Reply “skip” if you are not sure.
bots-report-ask-when = When did it happen? For example 2025-03-05, 2025-03, or “last month”. Reply “skip” if you do not remember.
bots-report-ask-when-offer = You mentioned “{ $said }”, that is { $value }. Is that right? Reply “yes”, or tell me when; reply “skip” if you do not remember.
bots-report-ask-amount = About how much money is involved? Write a number of yuan, for example 1200 or 1.2万. Reply “skip” if you are not sure.
bots-report-ask-amount-offer = You mentioned “{ $said }”, recorded as { $value }. Is that right? Reply “yes”, or tell me the amount; reply “skip” if you are not sure.
bots-report-ask-evidence = Do you have photos, receipts or voice messages? Send them now, one at a time is fine. Reply “done” when you are finished, or “skip” if you have none.
bots-report-ask-anonymous =
    Do you want to report anonymously or with your name?
    With your name: if the report is substantiated you may receive a reward under the rules, and we will tell you the outcome. Your identity is stored encrypted and kept confidential.
    Anonymously: no name needed; you can still follow progress with the tracking code.
    Reply with a number:
bots-anonymous-yes = Anonymously
bots-anonymous-no = With my name
bots-report-ask-claim-verifier =
    If the tip is substantiated and a reward is due, you can leave the last 6 characters of your ID number (the last may be X), so that the reward goes only to you.
    We keep only a sealed check value; nobody can see these 6 characters. To leave them out, reply "skip" (a reward would then be claimed in person with an identity check).
bots-report-ask-name = Please write your name.
bots-report-hint-name = Please write your name (at most { $max } characters).
bots-report-ask-id-number = Please write your resident ID number (18 characters). It is needed to claim a reward and is stored encrypted. Reply “skip” if you prefer not to give it.
bots-report-ask-phone = Please write your mobile number (11 digits) so we can tell you the outcome.
bots-report-ask-relation = How are you related to this matter? Reply with a number:
bots-relation-insider = I work there (insider)
bots-relation-patient = I am the patient
bots-relation-relative = A relative of the patient
bots-relation-public = A member of the public who knows about it
bots-relation-other = Other
bots-report-ask-notify-by =
    How would you like to hear the outcome? Reply with a number:
bots-notify-channel = Tell me here in the chat
bots-notify-sms = By text message to the mobile number I gave
bots-notify-email = By e-mail
bots-report-ask-email = Please write your e-mail address; the outcome will be sent there.
bots-notify-page = No messages; I will check with my tracking code
bots-report-hint-notify-by = Sorry, I did not understand how you want to hear the outcome. Please reply with a number, for example { $example } ({ $example_label }). Reply “skip” and we will tell you here.
bots-report-summary = Please check your answers:
bots-report-summary-description = What happened: { $value }
bots-report-summary-categories = Kind of problem: { $value }
bots-report-summary-target-name = Reported: { $value }
bots-report-summary-target-kind = Kind of target: { $value }
bots-report-summary-place = Where: { $value }
bots-report-summary-when = When: { $value }
bots-report-summary-amount = Amount: { $value }
bots-report-summary-evidence = Evidence: { $value } item(s)
bots-report-summary-anonymous = Reporting: { $value }
bots-report-summary-claim-verifier = Last 6 of ID number: { $value }
bots-report-summary-reporter-name = Name: { $value }
bots-report-summary-id-number = ID number: { $value }
bots-report-summary-phone = Mobile: { $value }
bots-report-summary-email = E-mail: { $value }
bots-report-summary-relation = Relation to the matter: { $value }
bots-report-summary-notify-by = Hearing the outcome: { $value }
bots-report-ask-confirm =
    If everything is right, reply 1 to submit.
    To change something, reply 2 to start again.
    To stop without reporting, reply “cancel”.

## Results of filing and lookup (sent by the main program after the action)
bots-report-filed =
    Your report has been submitted. Thank you!
    Tracking code: { $tracking_code }
    Passcode: { $passcode }
    Please write both down or take a screenshot; you need them to check progress. The passcode is shown only this once.
    We will decide whether to accept the report by { $accept_by }. Reply “status” to check progress.
bots-accept-by-provisional = Note: next year's public holidays have not been announced yet, so this date is provisional. It may change once they are announced; we will tell you if it does.
bots-report-failed = Sorry, the report could not be submitted. Please try again later or call the 12393 hotline.
bots-internal-error = Sorry, something went wrong on our side. Please reply “report” later to start again, or call the 12393 hotline.
bots-status-intro = OK. To check a report you need the tracking code and passcode you were given when you submitted it.
bots-status-ask-code = Please write the 12-digit tracking code:
bots-status-hint-code = The tracking code has 12 digits. Please check it and send it again; spaces or dashes are fine.
bots-status-ask-passcode = Please write the 16-digit passcode:
bots-status-hint-passcode = The passcode has 16 digits. Please check it and send it again.
bots-status-result = Current status of your report: { $status } (updated { $at }).
bots-status-not-found = The tracking code or passcode is not correct. Please check them and reply “status” to try again.
bots-status-rate-limited = Too many attempts. Please try again in { $minutes } minutes.

## Sent by the main program outside a flow step
bots-media-queued = Your { $count } photo(s) or voice message(s) will be attached to the report in a moment.
bots-media-failed = One of the photos or voice messages for report { $tracking_code } could not be read and was not attached. You can add information later with “status”.
bots-feedback-update = Update on your report { $tracking_code }: { $update }
