# Staff alerts in WeCom and DingTalk groups (notify::robots): no case content, only a short
# case reference, the region, a count and a console link.
robot-new-tip = [Fund reports] New tip in region { $region }: case { $case }. Tips in the region today: { $count }; waiting for acceptance: { $of }. Please decide on acceptance in time. { $link }
robot-clock-due = [Deadline] The “{ $clock }” deadline of case { $case } (region { $region }) ends in { $count } working days ({ $due }). { $link }
robot-overdue = [Escalated] The “{ $clock }” deadline of case { $case } (region { $region }) ended on { $due }; it is { $count } working days overdue and has been escalated. { $link }
robot-reveal-waiting = [Approval] A request to view the reporter's identity in case { $case } (region { $region }) waits for a custodian ({ $of } approval(s) needed). { $link }

# WeChat template and subscription messages outside the 48-hour window: a status word, a
# date and a link to the status page; never the case, the tracking code or the passcode.
wx-notice-title = There is news about your report
wx-notice-update = Updated
wx-notice-remark = Open the reporting page and check with your tracking code and passcode.

# The reporter's choice of how to be told (reporter.notify_by).
error-notify-by = Choose how to be told: the channel you came from, SMS, email, or only the status page.
error-notify-by-sms = To be told by SMS, please give a mobile number.
error-notify-by-email = To be told by email, please give an email address.
field-reporter-notify_by = How to be told
