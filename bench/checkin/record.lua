-- wrk script for bench/checkin: POST one scan per request as a gate tablet would.
-- Env: BENCH_PATH (URL path), BENCH_KEY (device API key), BENCH_IDS (file of participant ids,
-- one per line), BENCH_GATES (comma-separated gate codes), BENCH_THREADS (wrk -t),
-- BENCH_MODE "distinct" (each request a participant never scanned before) or "repeat"
-- (participants cycled over and over: duplicates / already checked in); BENCH_RUN (8 hex digits).

local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  tid = tonumber(tid) or 0
  nthreads = tonumber(os.getenv("BENCH_THREADS") or "2")
  mode = os.getenv("BENCH_MODE") or "distinct"
  ids = {}
  for line in io.lines(os.getenv("BENCH_IDS")) do
    ids[#ids + 1] = line
  end
  gates = {}
  for code in string.gmatch(os.getenv("BENCH_GATES") or "main-entrance", "[^,]+") do
    gates[#gates + 1] = code
  end
  counter = 0
  run = os.getenv("BENCH_RUN")  -- 8 hex digits, new for every wrk run: scanIds never repeat
  wrk.method = "POST"
  wrk.path = os.getenv("BENCH_PATH")
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Api-Key " .. os.getenv("BENCH_KEY")
end

function request()
  counter = counter + 1
  local index = ((counter - 1) * nthreads + tid) % #ids + 1
  local gate = gates[(counter % #gates) + 1]
  local scan_id = string.format("%s-%04x-4000-8000-%012x", run, tid, counter)
  local body = string.format(
    '{"participantId":"%s","gateId":"%s","timestamp":"%s","method":"qr_scan","scanId":"%s"}',
    ids[index], gate, os.date("!%Y-%m-%dT%H:%M:%S+00:00"), scan_id
  )
  return wrk.format(nil, nil, nil, body)
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "non_2xx": %d, "socket_errors": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, errors.status, errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)
  ))
end
