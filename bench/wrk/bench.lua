-- bench.lua -- the wrk script of ./dev bench (bench/bench.sh).
--
-- Without BENCH_REQUESTS in the environment (or with it empty) it defines no request()
-- function, so wrk sends its one pre-built request (the URL and the -H
-- headers of the command line) at full speed. With BENCH_REQUESTS=FILE,
-- FILE holds one request a line, "METHOD<TAB>PATH[<TAB>BODY[<TAB>TOKEN]]":
-- every thread builds them all once (wrk.format adds the -H headers and
-- Content-Length; a TOKEN becomes that request's Authorization: Bearer).
-- BENCH_PICK says which one each request() sends:
--   cycle (or empty)  the list in turn, each thread from its own starting point;
--   uniform           a uniformly random line per request;
--   zipf:S            a random line per request with P(line k) ~ 1 / k^S (the
--                     first line the most asked for: a hot head, a long tail).
-- A PATH holding {unique} gets a number there that no other request of the
-- run has (start time, thread number and a counter): the request is built once, split
-- around {unique}, and each request() only joins three strings.
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
local pick = os.getenv("BENCH_PICK") or ""

if file and file ~= "" then
   local reqs, n, i = {}, 0, 0
   local heads, tails, uniq, run = {}, {}, 0, ""
   local cdf = nil

   -- cdf[k] = P(line <= k) for Zipf(s) over n lines.
   local function zipf_cdf(s)
      local t, sum = {}, 0
      for k = 1, n do
         sum = sum + 1 / (k ^ s)
         t[k] = sum
      end
      for k = 1, n do t[k] = t[k] / sum end
      return t
   end

   -- The first k with cdf[k] >= u (binary search).
   local function zipf_pick(u)
      local lo, hi = 1, n
      while lo < hi do
         local mid = math.floor((lo + hi) / 2)
         if cdf[mid] < u then lo = mid + 1 else hi = mid end
      end
      return lo
   end

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
            local h, t = reqs[n]:match("^(.-){unique}(.*)$")
            if h then heads[n], tails[n] = h, t end
         end
      end
      if n == 0 then
         error("bench.lua: no requests in " .. file)
      end
      -- Spread the threads over the list (thread_no is 1, 2, ...).
      i = math.floor(((thread_no or 1) - 1) * n / 7) % n
      math.randomseed(os.time() * 1000 + (thread_no or 1))
      -- {unique} values differ between runs too (rounds run minutes apart).
      run = os.time() .. "t" .. (thread_no or 1) .. "n"
      local s = pick:match("^zipf:([0-9.]+)$")
      if s then
         cdf = zipf_cdf(tonumber(s))
      elseif pick ~= "" and pick ~= "cycle" and pick ~= "uniform" then
         error("bench.lua: unknown BENCH_PICK " .. pick)
      end
   end

   function request()
      if cdf then
         i = zipf_pick(math.random())
      elseif pick == "uniform" then
         i = math.random(n)
      else
         i = i + 1
         if i > n then i = 1 end
      end
      if heads[i] then
         uniq = uniq + 1
         return heads[i] .. run .. uniq .. tails[i]
      end
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
