# The timeline a reporter sees (never staff names)
timeline-received = We have received your report.
timeline-accepted = Your report has been accepted and a check is being arranged.
timeline-not_accepted = After review, your report could not be accepted.
timeline-transferred = Your report has been passed to the competent authority.
timeline-checking = The facts are being checked.
timeline-decided = The check is complete and a decision has been made.
timeline-closed = Closed. Thank you for helping protect the fund.
timeline-merged = Your report is being handled together with a report on the same matter.
timeline-message-added = You added information.
status-received = Received
status-accepted = Accepted
status-not_accepted = Not accepted
status-transferred = Transferred
status-checking = Being checked
status-decided = Decided
status-closed = Closed
status-merged = Merged
