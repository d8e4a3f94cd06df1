-- bench.lua -- the wrk script of ./dev bench (bench/bench.sh).
--
-- Without BENCH_REQUESTS in the environment (or with it empty) it defines no request()
-- function, so wrk sends its one pre-built request (the URL and the -H
-- headers of the command line) at full speed. With BENCH_REQUESTS=FILE,
-- FILE holds one request a line, "METHOD<TAB>PATH[<TAB>BODY[<TAB>TOKEN]]":
-- every thread builds them all once (wrk.format adds the -H headers and
-- Content-Length; a TOKEN becomes that request's Authorization: Bearer)
-- and cycles through them, each thread from its own starting point.
--
-- done() prints one line the driver parses:
--   BENCH_RESULT requests=N duration_us=N rps=X p50_us=N p99_us=N
--                status_errors=N connect=N read=N write=N timeout=N
-- status_errors counts answers with a status >= 400 (wrk's rule); the
-- other four are socket errors.

local threads = 0

function setup(thread)
   threads = threads + 1
   thread:set("thread_no", threads)
end

local file = os.getenv("BENCH_REQUESTS")

if file and file ~= "" then
   local reqs, n, i = {}, 0, 0

   function init(args)
      for line in io.lines(file) do
         local method, path, rest = line:match("^([^\t]+)\t([^\t]+)\t?(.*)$")
         if method then
            local body, token = rest:match("^([^\t]*)\t(.+)$")
            if not body then body = rest end
            if body == "" then body = nil end
            local headers = nil
            if token then
               headers = {}
               for k, v in pairs(wrk.headers) do headers[k] = v end
               headers["Authorization"] = "Bearer " .. token
            end
            n = n + 1
            reqs[n] = wrk.format(method, path, headers, body)
         end
      end
      if n == 0 then
         error("bench.lua: no requests in " .. file)
      end
      -- Spread the threads over the list (thread_no is 1, 2, ...).
      i = math.floor(((thread_no or 1) - 1) * n / 7) % n
   end

   function request()
      i = i + 1
      if i > n then i = 1 end
      return reqs[i]
   end
end

function done(summary, latency, requests)
   local e = summary.errors
   local secs = summary.duration / 1e6
   io.write(string.format(
      "BENCH_RESULT requests=%d duration_us=%d rps=%.2f p50_us=%d p99_us=%d " ..
      "status_errors=%d connect=%d read=%d write=%d timeout=%d\n",
      summary.requests, summary.duration, summary.requests / secs,
      latency:percentile(50), latency:percentile(99),
      e.status, e.connect, e.read, e.write, e.timeout))
end
