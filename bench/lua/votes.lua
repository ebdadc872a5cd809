-- Votes spread over several memes: POST /api/memes/{id}/vote with an empty body, the ids taken
-- in turn from the environment variable MEMES (comma-separated), starting at a random one. No
-- cookie, so every vote is a new visitor's and counts.
local ids = {}
for id in string.gmatch(os.getenv("MEMES") or "", "[^,]+") do
  ids[#ids + 1] = id
end
local turn = math.random(0, 1000)

request = function()
  turn = turn + 1
  return wrk.format("POST", "/api/memes/" .. ids[(turn % #ids) + 1] .. "/vote", nil, "")
end
