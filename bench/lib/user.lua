-- wrk script for bench/user-svc.sh. BENCH_MODE says what each request is:
--   login    POST /api/user/login for the accounts of BENCH_ACCOUNTS
--            ("email password" per line), round robin;
--   refresh  POST /api/user/refresh-token, one rotation chain per
--            connection: the refresh tokens of BENCH_SESSIONS (one per line)
--            are shared out between the threads, each request takes one and
--            its answer's Set-Cookie puts the rotated one back, so no token
--            is ever presented twice (that would revoke its family);
--   get      GET BENCH_PATH with the access token of BENCH_TOKEN.
-- Every request comes "through the gateway" from its own client address
-- (X-Forwarded-For, believed from 127.0.0.1), as a crowd of listeners does:
-- the per-address limits are not what is measured.
-- BENCH_DELAY_MS (optional) waits that long before each request.
local mode = os.getenv("BENCH_MODE") or "get"
local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
local accounts, tokens = {}, {}
local next_account = 1
-- setup() runs in wrk's main Lua state and numbers the threads; thread:set
-- makes the number the global `thread_index` of each thread's own state.
local counter, index, threads = 0, 0, 1

local function lines(path)
  local out = {}
  for line in io.lines(path) do
    if line ~= "" then out[#out + 1] = line end
  end
  return out
end

function setup(thread)
  thread:set("thread_index", counter)
  counter = counter + 1
end

function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)
  threads = tonumber(os.getenv("BENCH_THREADS") or "1")
  index = thread_index or 0
  if mode == "login" then
    for _, line in ipairs(lines(os.getenv("BENCH_ACCOUNTS"))) do
      local email, password = line:match("^(%S+) (%S+)$")
      accounts[#accounts + 1] = string.format('{"email":"%s","password":"%s"}', email, password)
    end
    next_account = index + 1
  elseif mode == "refresh" then
    for i, token in ipairs(lines(os.getenv("BENCH_SESSIONS"))) do
      if (i - 1) % threads == index then tokens[#tokens + 1] = token end
    end
  end
end

local function client()
  return string.format("10.%d.%d.%d", math.random(0, 255), math.random(0, 255), math.random(1, 254))
end

function request()
  local headers = { ["X-Forwarded-For"] = client() }
  if mode == "login" then
    headers["Content-Type"] = "application/json"
    local body = accounts[next_account]
    next_account = next_account % #accounts + 1
    return wrk.format("POST", "/api/user/login", headers, body)
  elseif mode == "refresh" then
    local token = table.remove(tokens)
    -- More connections than chains would present a token twice. (wrk also
    -- calls request() once on its first thread to check the script: that
    -- token is taken and never sent, hence the spare chains.)
    assert(token, "no refresh token left: use at least as many sessions as connections")
    headers["Cookie"] = "refreshToken=" .. token
    return wrk.format("POST", "/api/user/refresh-token", headers)
  else
    headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
    return wrk.format("GET", os.getenv("BENCH_PATH"), headers)
  end
end

if mode == "refresh" then
  function response(status, headers, body)
    local cookie = headers["set-cookie"] or headers["Set-Cookie"] or ""
    local token = cookie:match("refreshToken=([^;]+)")
    assert(status == 200 and token and token ~= "", "refresh answered " .. status)
    tokens[#tokens + 1] = token
  end
end

if delay_ms > 0 then
  function delay()
    return delay_ms
  end
end
