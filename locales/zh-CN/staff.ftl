# 工作人员端的提示与错误
error-unknown-role = 角色不正确，可选：intake、handler、supervisor、legal、finance、custodian、auditor、admin。
error-password-weak = 密码至少需要 10 个字符。
error-username = 用户名只能包含字母、数字和 . _ - @，最长 64 个字符。
error-username-taken = 该用户名已被使用。
error-invalid-credentials = 用户名或密码不正确。
error-totp-required = 请输入身份验证器上的 6 位动态码。
error-invalid-totp = 动态码不正确或已使用，请等下一个动态码。
error-invalid-token = 登录凭证无效，请重新登录。
error-token-expired = 登录已过期，请刷新或重新登录。
error-session-expired = 登录已结束，请重新登录。
error-unauthenticated = 请先登录。
error-totp-enrollment-required = 您的角色必须启用动态码（两步验证），请先完成设置。
error-totp-already-enabled = 动态码已经启用。
error-totp-not-started = 请先开始设置动态码。
error-invalid-setup-code = 初始化码不正确或已使用。
error-admin-combined = 管理员不能同时担任其他角色：管理员负责账号和配置，不接触案件内容和举报人身份（受理、承办、督办、法制审核、财务、身份保管、审计等角色都不能与管理员兼任）。
error-password-change-required = 这是管理员为您设置的初始密码，请先修改为您自己的密码，再进行其他操作。
error-password-unchanged = 新密码不能与当前密码相同。
error-own-request = 不能审批自己提出的申请，也不能审批与自己账号有关的申请，须由另一名管理员审批。
error-own-account = 不能修改自己的角色，也不能为自己重置动态码，须由另一名管理员办理。
error-not-pending = 此申请已经处理或已撤回。
error-totp-not-enabled = 该用户没有启用动态码，无需重置。
error-totp-reset-pending = 该用户已有一项动态码重置申请在等待审批。
error-forbidden = 您没有权限执行此操作。
error-case-not-found = 案件不存在。
error-record-not-found = 记录不存在。
error-evidence-held-sealed = 该文件无法清除可能暴露举报人身份的元数据（例如加密的 PDF），已封存，不能在此查看。
error-already-held = 该案件已有生效的保全（暂停清除）。
error-not-held = 该案件没有生效的保全。
error-already-purged = 该案件的举报人信息已按保存期限清除，无可保全的数据。
error-evidence-purged = 该文件已在案件保存期限届满后清除。
error-text-names-reporter = 该内容含有举报人信息（姓名、电话、身份证号、邮箱或账号）。请删除：典型案例不得包含举报人信息。
error-text-names-tracking-code = 该内容含有举报查询码，请删除。
error-text-names-call-id = 该内容含有该案的热线工单号，请删除。
error-text-names-staff = 该内容含有工作人员姓名，请删除。
error-not-substantiated = 典型案例只能取自查实或部分查实的案件。
error-own-draft = 该典型案例由您起草，须由他人审核和批准。
error-typical-not-found = 没有该典型案例。
error-typical-wrong-status = 该典型案例当前状态为“{ $status }”，不能进行此操作。
error-illegal-transition = 当前状态为“{ $status }”，不能进行此操作。可转为：{ $allowed }。
error-wrong-status = 案件当前状态为“{ $status ->
        [received] 已收到
        [accepted] 已受理
        [not_accepted] 不予受理
        [transferred] 已移送
        [merged] 已并案
        [checking] 核查中
        [decided] 已作出决定
        [closed] 已办结
       *[other] { $status }
    }”，不能进行此操作。
error-concurrent-change = 案件刚被他人修改，请刷新后重试。
error-required = 请填写“{ $field }”。
error-merge-target = 只能并入更早受理、仍在办理且您有权查看的同一事项案件。
error-decision-inconsistent = “查无实据”的决定不能填写查实金额、追回金额或处罚。
error-party-notice-required = 作出不利决定前，须先告知当事人并给予陈述、申辩的机会。
error-defence-period-open = 当事人陈述、申辩期尚未届满（截止 { $due }），暂不能作出决定。
error-collective-decision-required = 此事项须先经集体讨论决定。
error-legal-review-required = 此事项须先经法制审核同意。
error-two-inspectors = 现场检查须由两名以上检查人员进行，请填写检查人员。
error-date = 日期格式应为 年-月-日。
error-three-participants = 集体讨论须至少三人参加。
error-already-major = 此案件已标记为重大要情。
error-extension-pending = 已有延期申请在等待审批。
error-already-decided = 此申请已经处理。
error-not-major = 只有重大要情案件才能延长至六个月。
error-no-open-clock = 没有可延长的办理时限。
error-assignee = 只能分配给本辖区在职的案件办理人员。
error-assignee-recused = 该人员与被举报机构存在利害关系，须回避。
error-anonymous-reporter = 匿名举报人没有可查看的身份信息。
error-already-revealed = 此申请的身份信息已经查看过，不能再次查看。
error-not-approved = 此申请尚未获得批准。

ground-outside_scope = 所反映的问题不属于医疗保障基金监管范围。
ground-no_clear_target = 举报缺少明确的被举报对象或具体线索。
ground-under_investigation = 所反映的问题已在调查处理中。
ground-closed_no_new_lead = 所反映的问题已处理完毕，且未提供新的线索。
ground-litigation_or_review = 所反映的问题属于诉讼、仲裁或行政复议程序处理的范围。

feedback-staff-message = 办理人员给您留言：{ $body }

email-open-console = 在工作台中打开
email-footer = 此邮件由医保基金举报系统自动发送，请勿直接回复。
email-deadline-reminder-subject = 【提醒】案件 { $case } 的时限即将届满（{ $due }）
email-deadline-reminder-body =
    { $name }，您好：

    案件 { $case }（辖区 { $region }）的“{ $clock }”时限将于 { $due } 届满，请及时办理。
email-deadline-today-subject = 【今日到期】案件 { $case } 的时限今天届满
email-deadline-today-body =
    { $name }，您好：

    案件 { $case }（辖区 { $region }）的“{ $clock }”时限今天（{ $due }）届满，请今天内办结。
email-deadline-overdue-subject = 【督办】案件 { $case } 已超期 { $days_late } 个工作日
email-deadline-overdue-body =
    { $name }，您好：

    案件 { $case }（辖区 { $region }）的“{ $clock }”时限已于 { $due } 届满，现已超期 { $days_late } 个工作日，已列入督办。
email-major-case-subject = 【重大要情】辖区 { $region } 报告案件 { $case }
email-major-case-body =
    { $name }，您好：

    辖区 { $region } 已将案件 { $case } 标记为重大要情，请关注并指导办理。
email-reporter-update-subject = 您的举报（查询编号 { $tracking_code }）有新进展
email-reporter-update-body =
    您好：

    { $update }

    您可以在举报页面用查询编号和查询密码查看详细进度。感谢您对医保基金安全的监督。
email-deadline-moved-earlier-subject = 【时限提前】案件 { $case } 的时限提前到 { $due }
email-deadline-moved-earlier-body =
    { $name }，您好：

    新的法定节假日安排公布后，案件 { $case }（辖区 { $region }）的“{ $clock }”时限已由 { $from } 调整为 { $due }，请按新的时限办理。
error-approval-expired = 批准已过期（批准后须在规定时间内查看）。如仍需查看，请重新申请。
error-approval-withdrawn = 批准此申请的保管人已无权批准（角色、地区或回避情况已变化），请重新申请。
error-requester-ineligible = 申请人已无权查看此案件（角色、地区或回避情况已变化），不能批准。
error-reveal-needs-totp = 查看举报人身份前，请先在“我的账号”页面启用动态验证码。
error-not-an-identity-request = 这是查看证据原件的申请，请在案件的证据中下载原件。
error-original-needs-request = 证据原件可能含有举报人信息，须经身份保管人批准后才能查看：请先提交查看原件的申请。
