-- wrk script for `POST /api/v1/reports` (issue 20; benches/load.sh): the named tip of the
-- issue, every request the same body (each one is a new tip; no Idempotency-Key).
--   wrk -t2 -c64 -d8s --latency -s benches/wrk/intake.lua http://127.0.0.1:PORT
wrk.method = "POST"
wrk.path = "/api/v1/reports"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"target":{"name":"某某县民康医院","kind":"hospital","region_code":"371502"},"categories":["fake_patient","fake_documents"],"description":"该医院组织老年人挂床住院，虚开住院费用单据，骗取医保基金。","reporter":{"anonymous":false,"name":"王秀兰","id_number":"371502195803140021","phone":"13912345678","relation":"patient"},"locale":"zh-CN"}'
