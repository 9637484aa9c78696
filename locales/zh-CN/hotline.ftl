# 热线对接（CONTRACT §5）：返回给话务系统的信息。
error-hotline-signature = 签名无效。
error-hotline-unknown-source = 未知的热线来源。
error-hotline-token = “{ $field }”须为 1–128 个可见 ASCII 字符。
error-hotline-received-at = “{ $field }”须为 RFC 3339 时间，例如 2026-11-23T09:30:00+08:00。
error-hotline-caller-number = 来电号码须为 3–20 位数字（可带 + 号和分隔符）。
error-hotline-recording-url = 录音地址须为 http(s) 地址，不得包含用户名或密码，且须位于允许获取的地址。
field-call_id = 工单号
field-received_at = 来电时间
field-caller_number = 来电号码
field-caller_name = 来电人姓名
field-agent_id = 话务员工号
field-recording_url = 录音地址
error-hotline-received-at-range = “{ $field }”不能晚于现在，也不能早于 2018 年。
hotline-accept-by-provisional = 提示：明年的法定节假日安排尚未公布，受理期限为暂定日期，公布后可能调整，如有调整会告知来电人。
error-hotline-notify-by-sms = 短信告知只能用于实名来电，且来电号码须为手机号码。
error-hotline-notify-by-email = 热线工单无法留电子邮箱，不能选择邮件告知；可选原渠道（由话务系统回告）、短信或仅在查询页面查看。
field-notify_by = 告知方式
