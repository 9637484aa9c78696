# Staff alerts in WeCom and DingTalk groups (notify::robots): no case content, only a short
# case reference, the region, a count and a console link.
robot-new-tip = 【医保举报】辖区 { $region } 收到新举报线索，案件 { $case }。本辖区今天已收到 { $count } 条，待受理 { $of } 条，请在受理时限内处理。{ $link }
robot-clock-due = 【时限提醒】案件 { $case }（辖区 { $region }）的“{ $clock }”时限还有 { $count } 个工作日届满（{ $due }）。{ $link }
robot-overdue = 【督办】案件 { $case }（辖区 { $region }）的“{ $clock }”时限已于 { $due } 届满，超期 { $count } 个工作日，已列入督办。{ $link }
robot-reveal-waiting = 【待审批】案件 { $case }（辖区 { $region }）有一项查看举报人身份的申请等待身份保管人审批（需 { $of } 人批准）。{ $link }

# WeChat template and subscription messages outside the 48-hour window: a status word, a
# date and a link to the status page; never the case, the tracking code or the passcode.
wx-notice-title = 您的举报有新进展
wx-notice-update = 有新进展
wx-notice-remark = 请打开举报页面，用查询编号和查询密码查看详情。

# The reporter's choice of how to be told (reporter.notify_by).
error-notify-by = 请选择告知方式：原渠道、短信、电子邮件或仅在查询页面查看。
error-notify-by-sms = 选择短信告知，请留下手机号码。
error-notify-by-email = 选择邮件告知，请留下电子邮箱。
field-reporter-notify_by = 告知方式
