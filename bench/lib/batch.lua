-- wrk script: POST BENCH_PATH with {"ids": [500 song ids]}, the song lookup
-- of a 500-song playlist. BENCH_IDS: a file of song ids, one a line.
-- BENCH_LISTS: how many different playlists the requests cycle through
-- (1: every request asks for the same list, answered from song-svc's memo;
-- 0: a fresh random list each request, every one read from PostgreSQL).
local path = os.getenv("BENCH_PATH") or "/api/song/songs"
local ids_file = os.getenv("BENCH_IDS")
local lists = tonumber(os.getenv("BENCH_LISTS") or "1")
local size = tonumber(os.getenv("BENCH_SIZE") or "500")
local ids = {}
local bodies = {}

local function body()
  local pick = {}
  for i = 1, size do
    pick[i] = '"' .. ids[math.random(#ids)] .. '"'
  end
  return '{"ids":[' .. table.concat(pick, ",") .. ']}'
end

function init(args)
  math.randomseed(42)
  for line in io.lines(ids_file) do
    if line ~= "" then ids[#ids + 1] = line end
  end
  for i = 1, math.max(lists, 0) do
    bodies[i] = body()
  end
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)
end

function request()
  local b
  if lists > 0 then b = bodies[math.random(#bodies)] else b = body() end
  return wrk.format("POST", path, { ["Content-Type"] = "application/json" }, b)
end
