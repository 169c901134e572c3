-- One line of FILE per request: wrk -s pool.lua URL -- FILE THREADS CYCLE METHOD PATH
-- HEADER VALUE BODY. "{}" in PATH, VALUE and BODY becomes the line (a token, an email).
-- CYCLE=1 reuses the lines round and round (logins); CYCLE=0 consumes each once (a
-- logout ends its session) and stops the thread when its lines run out.
dofile("bench/lua/common.lua")

local function fill(template, line)
   return (template:gsub("{}", function() return line end))
end

function init(args)
   lines = my_lines(args[1], tonumber(args[2]))
   cycle = args[3] == "1"
   method, path, header, value, body = args[4], args[5], args[6], args[7], args[8]
   nxt = 1
end

function request()
   if nxt > #lines then
      if not cycle then exhausted = 1; return wrk.format("GET", "/bench/floor") end
      nxt = 1
   end
   local line = lines[nxt]
   nxt = nxt + 1
   local headers = {["Content-Type"] = "application/json"}
   if header ~= "" then headers[header] = fill(value, line) end
   return wrk.format(method, fill(path, line), headers, body ~= "" and fill(body, line) or nil)
end

function response(status, headers, body)
   check(status, headers)
   if not cycle and nxt > #lines then wrk.thread:stop() end
end
