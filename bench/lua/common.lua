-- Shared by the bench scripts (wrk runs each script with `dofile("bench/lua/common.lua")`
-- from the repository root). Each wrk thread has one connection (-t N -c N), so a
-- thread's globals are that connection's state. Every response is checked: non-2xx
-- responses are counted, and X-Bench-Queries (bench/middleware.py) is sampled.

local threads = {}

function setup(thread)
   thread:set("id", #threads)
   table.insert(threads, thread)
end

non2xx, first_bad, qmin, qmax, exhausted = 0, 0, -1, -1, 0

function check(status, headers)
   if status < 200 or status > 299 then
      non2xx = non2xx + 1
      if first_bad == 0 then first_bad = status end
   end
   local q = tonumber(headers["X-Bench-Queries"])
   if q then
      if qmin < 0 or q < qmin then qmin = q end
      if q > qmax then qmax = q end
   end
end

-- This thread's lines of a file: lines id+1, id+1+n, ... of n threads.
function my_lines(path, n)
   local lines, i = {}, 0
   for line in io.lines(path) do
      if i % n == id then table.insert(lines, line) end
      i = i + 1
   end
   return lines
end

function response(status, headers, body)
   check(status, headers)
end

function done(summary, latency, requests)
   local bad, first, lo, hi, ex = 0, 0, -1, -1, 0
   for _, t in ipairs(threads) do
      bad = bad + t:get("non2xx")
      if first == 0 then first = t:get("first_bad") end
      local tlo, thi = t:get("qmin"), t:get("qmax")
      if tlo >= 0 and (lo < 0 or tlo < lo) then lo = tlo end
      if thi > hi then hi = thi end
      ex = ex + t:get("exhausted")
   end
   local e = summary.errors
   io.write(string.format(
      'BENCH_JSON {"requests": %d, "duration_us": %d, "non2xx": %d, "first_bad_status": %d, '
         .. '"socket_errors": %d, "p50_us": %d, "p99_us": %d, "mean_us": %.1f, '
         .. '"queries_min": %d, "queries_max": %d, "exhausted_threads": %d}\n',
      summary.requests, summary.duration, bad, first,
      e.connect + e.read + e.write + e.timeout,
      latency:percentile(50), latency:percentile(99), latency.mean, lo, hi, ex))
end
