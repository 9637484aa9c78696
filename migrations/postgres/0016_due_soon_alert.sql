-- The group-robot alert "a deadline is due in 3 working days" (issue 17 part 3): the
-- Asia/Shanghai day it was written for this clock. Set by a conditional update in the
-- alert's transaction, so that of several instances sweeping at once exactly one writes it.
ALTER TABLE clocks ADD COLUMN soon_alerted_on TEXT;
CREATE INDEX clocks_due_soon ON clocks (due_on) WHERE closed_at IS NULL AND soon_alerted_on IS NULL;
