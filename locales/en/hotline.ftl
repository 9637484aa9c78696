# Hotline bridge (CONTRACT §5): answers to the call centre's system.
error-hotline-signature = Invalid signature.
error-hotline-unknown-source = Unknown hotline source.
error-hotline-token = “{ $field }” must be 1–128 visible ASCII characters.
error-hotline-received-at = “{ $field }” must be an RFC 3339 time, e.g. 2026-11-23T09:30:00+08:00.
error-hotline-caller-number = The caller's number must have 3–20 digits (an optional + and separators are allowed).
error-hotline-recording-url = The recording URL must be an http(s) URL without a user name or password, on an address the bridge may fetch from.
field-call_id = Call ID
field-received_at = Time of the call
field-caller_number = Caller's number
field-caller_name = Caller's name
field-agent_id = Agent ID
field-recording_url = Recording URL
error-hotline-received-at-range = “{ $field }” must not be in the future or before 2018.
hotline-accept-by-provisional = Note: next year's public holidays are not yet announced, so the acceptance date is provisional and may change; the caller will be told if it does.
error-hotline-notify-by-sms = SMS can be chosen only by a named caller whose number is a mainland mobile.
error-hotline-notify-by-email = A work order carries no email address, so email cannot be chosen; choose the call centre (channel), SMS or the status page only.
field-notify_by = how to be told
