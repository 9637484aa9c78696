# 举报人看到的办理进度（不显示工作人员姓名）
timeline-received = 我们已收到您的举报。
timeline-accepted = 您的举报已受理，正在安排核查。
timeline-not_accepted = 经审查，您的举报不符合受理条件。
timeline-transferred = 您的举报已移交有关部门办理。
timeline-checking = 正在核查中。
timeline-decided = 核查已完成，已作出处理决定。
timeline-closed = 已办结，感谢您的监督。
timeline-merged = 您反映的问题已与同一事项合并办理。
timeline-message-added = 您补充了材料。
status-received = 已收到
status-accepted = 已受理
status-not_accepted = 不予受理
status-transferred = 已移交
status-checking = 核查中
status-decided = 已处理
status-closed = 已办结
status-merged = 已合并
