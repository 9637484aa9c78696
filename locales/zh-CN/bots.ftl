# 微信公众号、企业微信机器人的对话文字。面向老年人：句子短，选项带数字，随时告诉怎么退出。
# 变量都是字符串。{ $label }、{ $value } 等由引擎给出。

## 欢迎、帮助与全局命令
bots-welcome =
    您好，欢迎关注医保基金监督举报平台！
    发现骗取医保基金的行为，可以在这里举报。请回复数字或文字：
    1 或“举报”：我要举报
    2 或“查询”：查看举报进度
    3 或“帮助”：使用说明
    For English, reply “english”.
bots-help =
    使用说明：
    回复“举报”：我们一项一项地问，您一项一项地答。
    回复“查询”：用查询编号和查询密码查看办理进度。
    回复“取消”：随时退出，已填的内容不保存。
    可以匿名举报。实名举报查实后可以获得奖励，也会告诉您处理结果，身份信息加密保存。
    也可以拨打 12393 医保服务热线。
    For English, reply “english”.
bots-help-in-flow = 您还在填写中，接着回答下面这个问题就可以：
bots-unknown =
    您好！我没有看懂您的意思。
    回复“举报”开始举报，回复“查询”查看进度，回复“帮助”查看说明。
bots-expired = 上次的填写超过 30 分钟没有继续，为了保护您的信息，已经清除了。需要的话请重新开始。
bots-cancelled = 好的，已经取消，刚才填写的内容没有保存。需要时回复“举报”可以重新开始。
bots-nothing-to-cancel = 现在没有正在填写的内容。回复“举报”开始举报，回复“帮助”查看说明。
bots-restarted = 好的，我们从头开始。
bots-language-set = 好的，下面用中文和您交流。

## 照片和语音
bots-media-outside = 这一步还不能收照片或语音。开始举报后，填到“证据材料”这一步时再发给我们就可以。还没开始的话，请先回复“举报”。
bots-media-received = 已收到第 { $count } 份材料。还有就接着发；发完了请回复“完成”。
bots-media-full = 已收到 { $max } 份材料，这是最多能收的数量。我们接着往下填。

## 回答看不懂时
bots-cannot-skip = 这一项需要填写，不能跳过。
bots-stuck = 已经试了 { $attempt } 次，还没成功，没关系。回复“帮助”可以看说明，回复“取消”可以退出，以后再来；也可以拨打 12393 医保服务热线。
bots-hint-text = 您写了 { $chars } 个字，这里需要 { $min } 到 { $max } 个字。
bots-hint-choice = 没看懂。请回复前面的数字，例如回复 { $example }（{ $example_label }）。
bots-hint-multi = 没看懂。请回复前面的数字，可以选多个，用空格隔开，例如回复 { $example }（{ $example_label }）。
bots-hint-yes-no = 请回复 1（是）或 2（否）。
bots-hint-date = 没看懂这个时间。可以这样说：“{ $example }”，也可以说“上个月”“去年冬天”“2025年3月”。不记得请回复“跳过”。
bots-hint-amount = 没看懂金额。可以这样写：“{ $example }”，也可以说“两千块”“三千多”“两三千”。不清楚请回复“跳过”。
bots-hint-region = 地区代码是 6 位数字，例如 371502。
bots-hint-resident-id = 身份证号码不对，请核对 18 位号码，最后一位可能是 X。
bots-hint-phone = 手机号码不对，请写 11 位手机号，例如 13800138000。
bots-hint-email = 邮箱地址不对，请写完整的地址，例如 zhangsan@example.cn。
bots-hint-media = 请发送照片或语音。发完了请回复“完成”。
bots-hint-location = 请写一下地址（至少 2 个字），或者发送位置。
bots-hint-id-last6 = 需要身份证号码的最后 6 位：前 5 位是数字，最后一位是数字或 X。不想留请回复“跳过”。
bots-hint-digits = 需要 { $len } 位数字，请核对后再发一次。
bots-hint-confirm = 请回复 1 提交，或回复 2 重新填写。

## 列表
bots-option = { $n }. { $label }
bots-yes = 是
bots-no = 否
bots-list-separator = ；

## 举报流程
bots-report-intro = 好的，我们一步一步来，大约 10 个问题。任何时候回复“取消”都可以退出。
bots-report-ask-description =
    请说说发生了什么事。
    比如：哪家医院、药店或什么人，做了什么，怎么骗医保的钱。
    越具体越好，至少 10 个字。也可以直接发语音。
bots-report-hint-description = 您写了 { $chars } 个字，请再多写几句，至少要 { $min } 个字。
bots-report-ask-categories = 这属于哪类问题？请回复数字，可以选多个，用空格隔开，例如：1 3。也可以直接说是什么事；不知道属于哪类，回复“不知道”就行。
bots-report-ask-categories-suggested = 听起来像是：{ $value }。对吗？对的话回复“对”；不对请回复下面的编号，可以选多个，用空格隔开。不知道属于哪类，回复“不知道”就行。
bots-report-hint-categories = 没看懂。请回复前面的数字，可以选多个，用空格隔开，例如回复 { $example }（{ $example_label }）。也可以直接说是什么事；不知道属于哪类，回复“不知道”就行。
bots-report-categories-unsure = 没关系，我们先记为“其他问题”，工作人员会帮您分类。
bots-cat-fake-patient = 假病人，虚假就医
bots-cat-fake-condition = 假病情，虚构病情
bots-cat-fake-documents = 假病历、假票据
bots-cat-fictitious-services = 没做的检查、治疗也收钱
bots-cat-identity-misuse = 冒名就医、出借医保卡
bots-cat-split-or-bed = 分解住院、挂床住院
bots-cat-excessive-treatment = 过度检查、过度治疗、多开药
bots-cat-overcharging = 重复收费、超标准收费
bots-cat-substitution = 串换药品、耗材或项目
bots-cat-drug-resale = 倒卖药品、医保卡换钱换物
bots-cat-out-of-scope = 不能报销的费用算进医保
bots-cat-duplicate-benefits = 重复享受医保待遇
bots-cat-agency-misconduct = 医保经办机构违规
bots-cat-other = 其他问题
bots-report-ask-target-name = 被举报的是谁？请写出医院、诊所、药店的名称，或者人的姓名。
bots-report-ask-target-name-offer = 被举报的是“{ $value }”吗？是的话回复“对”；不是，或者您知道全名，请直接写出名称。
bots-report-hint-target-name = 请写出被举报的单位名称或人的姓名，至少 2 个字。
bots-report-ask-target-kind = 被举报的是哪一类？请回复数字：
bots-report-kind-inferred = 按名称，对象类型记为：{ $value }。
bots-kind-hospital = 医院
bots-kind-clinic = 诊所、卫生室
bots-kind-pharmacy = 药店
bots-kind-insured-person = 参保的个人
bots-kind-agency-staff = 医保经办工作人员
bots-kind-other = 其他
bots-report-ask-place = 在哪里？可以写地址，也可以点“＋”发送位置。知道 6 位地区代码也可以直接写。不清楚请回复“跳过”。
bots-report-hint-place = 请写一下地址，至少 2 个字，或者发送位置。不清楚请回复“跳过”。
bots-report-ask-when = 大概是什么时候？怎么说都可以，例如：上个月、去年冬天、春节前后、10月5号、2025年3月。不记得请回复“跳过”。
bots-report-ask-when-offer = 您前面说的时间是“{ $said }”，也就是 { $value }，对吗？对的话回复“对”；不对请说一下时间，不记得请回复“跳过”。
bots-report-ask-amount = 大概涉及多少钱？怎么说都可以，例如：两千块、三千多、两三千、1.2万。不清楚请回复“跳过”。
bots-report-ask-amount-offer = 您前面说的金额是“{ $said }”，记为 { $value }，对吗？对的话回复“对”；不对请说一下金额，不清楚请回复“跳过”。
bots-report-ask-evidence = 有照片、票据或语音吗？现在就可以发送，一张一张发也可以。发完了请回复“完成”；没有请回复“跳过”。
bots-report-ask-anonymous =
    您想匿名举报，还是实名举报？
    实名举报：查实后可以按规定领取奖励，我们也会告诉您处理结果。您的身份信息加密保存，严格保密。
    匿名举报：不用留姓名，也能用查询编号查看进度。
    请回复数字：
bots-anonymous-yes = 匿名举报
bots-anonymous-no = 实名举报
bots-report-ask-claim-verifier =
    如果查实后有奖励，为确保奖励只发给您本人，可以留下您身份证号码的最后 6 位（最后一位可能是 X）。
    我们只保存一个加密校验值，谁也看不到这 6 位。不想留请回复“跳过”（以后领奖需要到现场核对身份）。
bots-report-ask-name = 请写您的姓名。
bots-report-hint-name = 请写您的姓名，最多 { $max } 个字。
bots-report-ask-id-number = 请写您的身份证号码（18 位）。领取奖励时要用，会加密保存。不想填请回复“跳过”。
bots-report-ask-phone = 请写您的手机号码（11 位），方便告诉您处理结果。
bots-report-ask-relation = 您和这件事是什么关系？请回复数字：
bots-relation-insider = 单位内部人员
bots-relation-patient = 患者本人
bots-relation-relative = 患者家属
bots-relation-public = 知情群众
bots-relation-other = 其他
bots-report-ask-notify-by =
    有了处理结果，您想怎么知道？请回复数字：
bots-notify-channel = 在微信里告诉我（就在这里）
bots-notify-sms = 发短信到我留的手机号
bots-notify-email = 发电子邮件给我
bots-report-ask-email = 请写您的电子邮箱地址，处理结果会发到这个邮箱。
bots-notify-page = 不用通知，我自己用查询编号查
bots-report-hint-notify-by = 没看懂您想怎么知道结果。请回复前面的数字，例如回复 { $example }（{ $example_label }）。都可以的话回复“跳过”，我们就在这里告诉您。
bots-report-summary = 请核对您填写的内容：
bots-report-summary-description = 发生了什么：{ $value }
bots-report-summary-categories = 问题类型：{ $value }
bots-report-summary-target-name = 被举报对象：{ $value }
bots-report-summary-target-kind = 对象类型：{ $value }
bots-report-summary-place = 地点：{ $value }
bots-report-summary-when = 时间：{ $value }
bots-report-summary-amount = 涉及金额：{ $value }
bots-report-summary-evidence = 证据材料：{ $value } 份
bots-report-summary-anonymous = 举报方式：{ $value }
bots-report-summary-claim-verifier = 身份证后 6 位：{ $value }
bots-report-summary-reporter-name = 姓名：{ $value }
bots-report-summary-id-number = 身份证号：{ $value }
bots-report-summary-phone = 手机号：{ $value }
bots-report-summary-email = 电子邮箱：{ $value }
bots-report-summary-relation = 与此事的关系：{ $value }
bots-report-summary-notify-by = 怎么告诉您结果：{ $value }
bots-report-ask-confirm =
    内容没问题，请回复 1 提交。
    需要修改，请回复 2 重新填写。
    不想举报了，请回复“取消”。

## 提交与查询的结果（由主程序在执行动作后发送）
bots-report-filed =
    举报已提交成功，感谢您的监督！
    查询编号：{ $tracking_code }
    查询密码：{ $passcode }
    请把这两个号码抄下来或截图保存，查询进度时要用。查询密码只显示这一次。
    我们会在 { $accept_by } 前决定是否受理。回复“查询”可以查看进度。
bots-accept-by-provisional = 提示：明年的法定节假日安排还没有公布，这个日期是暂定的；安排公布后可能会调整，调整了我们会告诉您。
bots-report-failed = 抱歉，举报没有提交成功，请稍后再试，或拨打 12393 医保服务热线。
bots-internal-error = 抱歉，系统出了点问题。请稍后回复“举报”重新开始，或拨打 12393 医保服务热线。
bots-status-intro = 好的，查询进度需要查询编号和查询密码，提交举报时已经发给您了。
bots-status-ask-code = 请写 12 位查询编号：
bots-status-hint-code = 查询编号是 12 位数字，请核对后再写一次。中间有空格或横线没关系。
bots-status-ask-passcode = 请写 16 位查询密码：
bots-status-hint-passcode = 查询密码是 16 位数字，请核对后再写一次。
bots-status-result = 您举报的事项现在的状态是：{ $status }（更新于 { $at }）。
bots-status-not-found = 查询编号或查询密码不正确。请核对后回复“查询”重新输入。
bots-status-rate-limited = 尝试次数太多了，请 { $minutes } 分钟后再试。

## 主程序在流程之外发送的消息
bots-media-queued = 您发送的 { $count } 张照片或语音稍后会附到举报中。
bots-media-failed = 举报 { $tracking_code } 的一张照片或一条语音无法读取，没有附上。您可以之后回复“查询”补充情况。
bots-feedback-update = 您的举报 { $tracking_code } 有新进展：{ $update }
