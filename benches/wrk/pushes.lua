-- wrk script for safe-mode WeChat pushes (issue 20; benches/load.sh): cycles through the
-- signed pushes that `examples/pushgen.rs` wrote to the file named by PUSHES (one
-- `path<TAB>body` a line). Each thread starts at its own offset, so the two threads do not
-- send the same push at the same moment.
--   PUSHES=pushes.txt wrk -t2 -c64 -d8s --latency -s benches/wrk/pushes.lua http://127.0.0.1:PORT
local requests = {}
local next_i = 1
local thread_no = 0

function setup(thread)
  thread:set("thread_no", thread_no)
  thread_no = thread_no + 1
end

function init(args)
  local file = assert(io.open(os.getenv("PUSHES"), "r"))
  local headers = { ["Content-Type"] = "text/xml" }
  for line in file:lines() do
    local tab = line:find("\t", 1, true)
    requests[#requests + 1] = wrk.format("POST", line:sub(1, tab - 1), headers, line:sub(tab + 1))
  end
  file:close()
  -- Thread k takes every other push, starting at k: the threads never repeat one another.
  next_i = 1 + thread_no
end

function request()
  local r = requests[next_i]
  next_i = next_i + 2
  if next_i > #requests then
    next_i = 1 + thread_no
  end
  return r
end
