-- wrk script: GET BENCH_PREFIX .. <random line of BENCH_IDS> (or just
-- BENCH_PREFIX without an ids file), with the bearer token in BENCH_TOKEN.
local ids = {}
local prefix = os.getenv("BENCH_PREFIX") or "/"
local token = os.getenv("BENCH_TOKEN")
local ids_file = os.getenv("BENCH_IDS")

function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)
  if ids_file and ids_file ~= "" then
    for line in io.lines(ids_file) do
      if line ~= "" then ids[#ids + 1] = line end
    end
  end
end

function request()
  local path = prefix
  if #ids > 0 then path = prefix .. ids[math.random(#ids)] end
  local headers = {}
  if token and token ~= "" then headers["Authorization"] = "Bearer " .. token end
  return wrk.format("GET", path, headers)
end

-- BENCH_DELAY_MS (optional): each connection waits that long between requests.
local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
if delay_ms > 0 then
  function delay()
    return delay_ms
  end
end
