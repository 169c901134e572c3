-- Refresh like a client: each response's new refresh token is the next request's.
-- wrk -s chain.lua URL -- FILE THREADS cookie|json PATH: thread i starts from line i+1
-- of FILE (its own session). "cookie": our service (Set-Cookie -> Cookie);
-- "json": simplejwt ({"refresh": ...} in, "refresh" of the JSON response out).
dofile("bench/lua/common.lua")

function init(args)
   token = my_lines(args[1], tonumber(args[2]))[1]
   mode, path = args[3], args[4]
end

function request()
   if mode == "cookie" then
      return wrk.format("POST", path, {Cookie = "refresh_token=" .. token})
   end
   return wrk.format("POST", path, {["Content-Type"] = "application/json"},
                     '{"refresh": "' .. token .. '"}')
end

function response(status, headers, body)
   check(status, headers)
   local new
   if mode == "cookie" then
      new = (headers["Set-Cookie"] or ""):match("refresh_token=([^;]+)")
   else
      new = body:match('"refresh"%s*:%s*"([^"]+)"')
   end
   if new then token = new end
end
