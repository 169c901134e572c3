-- The same request every time: wrk -s static.lua URL -- METHOD PATH [HEADER VALUE]
dofile("bench/lua/common.lua")

function init(args)
   local headers = {}
   if args[3] then headers[args[3]] = args[4] end
   req = wrk.format(args[1], args[2], headers)
end

function request()
   return req
end
