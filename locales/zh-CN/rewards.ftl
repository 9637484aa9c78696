# 奖励与财务（DOMAIN §5）
error-reward-not-found = 未找到奖励记录。
error-reward-wrong-status = 奖励当前状态为“{ $status ->
        [pending] 待告知
        [proposed] 已提出
        [returned] 已退回
        [approved] 已批准
        [notified] 已告知
        [claimed] 已申领
        [paid] 已发放
        [expired] 逾期失效
        [reversed] 已撤销
       *[other] { $status }
    }”，不能进行此操作。
error-reward-not-due = 该案件的处理结论未认定应予奖励。
error-reward-no-loss-range = 未造成损失的奖励金额须在 { $min } 元至 { $max } 元之间。
error-reward-no-loss-with-loss = 已查实损失金额的案件不适用“未造成损失”的奖励金额。
error-reward-no-policy = 地区 { $region } 在 { $date } 没有生效的奖励办法。
error-reward-facts-known = 举报事项已被掌握，不予奖励。
error-reward-excluded = 举报人不属于奖励对象。
error-reward-own-proposal = 不能审批或支付自己提出的奖励。
error-reward-already-approved = 您已审批过该奖励，须由另一人审批。
error-reward-finance-required = 该奖励须先由财务人员审批。
error-reward-budget = 奖励预算余额不足（{ $region }，余额 { $balance } 元）。
error-reward-already-paid = 该奖励已支付，不能重复支付。
error-reward-amount-mismatch = 支付金额须等于核定的奖励金额 { $amount } 元。
error-reward-no-bank-account = 举报人未提供银行账户，请改为现场领取。
error-reward-id-last6 = 请填写身份证号码后六位（最后一位可为 X）。
error-reward-id-mismatch = 身份证号码后六位不符。
error-reward-reversal-second = 撤销奖励须由监督人员和财务人员各一人确认。
error-reward-expired = 领取期限已过，奖励已失效。
error-reward-already-claimed = 奖励已申领。
error-reward-bank-account = 银行账号须为 10 至 30 位数字。
error-reward-co-reporters-too-many = 共同举报人最多 { $max } 人。
error-reward-co-reporter-unknown = “{ $tip }”既不是本案件，也不是并入本案件的举报。
error-reward-co-reporter-duplicate = 举报“{ $tip }”重复列出。
error-reward-co-reporter-excluded = 举报“{ $tip }”的举报人不属于奖励对象。
error-reward-co-reporter-weight = 共同举报人的分配比例须为 1 至 { $max } 的整数。
error-reward-co-reporter-zero-share = 按此比例分配，有共同举报人所得不足 1 分。
error-reward-co-reporters-first = 共同举报人须包括第一个有效举报人（案件 { $tip }）。
error-reward-share-required = 该奖励由共同举报人分享，请指明支付哪一份额所属的举报。
error-reward-share-unknown = “{ $tip }”在该奖励中没有份额。
timeline-reward_notified = 您的举报符合奖励条件，请按提示申领奖励。
timeline-reward_claimed = 您已申领奖励，我们将尽快发放。
timeline-reward_paid = 奖励已发放。
timeline-reward_expired = 奖励领取期限已过，奖励已失效。
timeline-reward_claim_reminder = 奖励领取期限即将届满。
timeline-reward_reversed = 经复核，奖励已撤销。
reward-notice-note = 奖励金额 { $amount } 元，请于 { $claim_by } 前凭查询码和密码申领。
reward-share-notice-note = 您在共同举报奖励中的份额为 { $amount } 元（奖励总额 { $total } 元），请于 { $claim_by } 前凭查询码和密码申领。
reward-claim-reminder-note = 请于 { $claim_by } 前申领奖励，逾期视为放弃。
field-bank_account = 银行账号
field-id_last6 = 身份证号码后六位
field-no_loss_amount_fen = 未造成损失的奖励金额
field-grade = 证据等级
field-amount_fen = 金额
field-reference = 支付凭证号
field-paid_on = 支付日期
field-year = 年度
field-region = 地区
field-excluded_merged = 不予奖励的合并举报
field-co_reporters = 共同举报人
field-co_reporters-tip = 共同举报人的举报
field-co_reporters-weight = 共同举报人的分配比例
field-tip = 举报
error-reward-verifier-required = 转账领取须填写举报时设置的身份证号码后六位。
error-reward-no-verifier = 该举报未设置领奖核验信息，不能转账领取，请到现场领取，由两名财务人员核验身份。
error-reward-identity-check-required = 现场发放前，须由两名财务人员核验领取人身份。
error-reward-second-officer = 身份核验须由另一名财务人员确认。
error-reward-identity-checked = 身份核验已经确认。
