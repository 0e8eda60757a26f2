-- Lua 5.4 exercise (no error and no coroutine: both unwind through longjmp, which
-- wasm32-wasi lacks). arg[1] scales.
local N = tonumber(arg and arg[1]) or 10

-- tables as arrays and hashes, sort with a comparator
local t = {}
for i = 1, N * 500 do t[i] = (i * 7919) % 10007 end
table.sort(t, function(a, b) return a > b end)
print("sorted", #t, t[1], t[#t], t[(#t + 1) // 2])

local count = {}
for i = 1, N * 1000 do
  local k = "k" .. ((i * i) % 97)
  count[k] = (count[k] or 0) + 1
end
local keys = {}
for k in pairs(count) do keys[#keys + 1] = k end
table.sort(keys)
print("distinct", #keys, keys[1], count[keys[1]], keys[#keys], count[keys[#keys]])

-- strings: patterns, gsub, format, rep, byte/char
local text = string.rep("The quick brown fox jumps over the lazy dog. ", N * 10)
local words, caps = 0, {}
for w in text:gmatch("%a+") do words = words + 1; caps[w:upper()] = true end
local replaced, nrep = text:gsub("(%a+) (%a+)", "%2 %1")
print("words", words, "replaced", nrep, #replaced, replaced:sub(1, 44))
print(string.format("%5.2f|%-5d|%x|%q|%s|%g|%e", math.pi, 42, 48879, "a\n\0b", nil, 1e20, 2^-10))
print(("%d items"):format(7), ("abc"):byte(1, -1), string.char(76, 117, 97), ("x"):rep(3, "-"))
print(string.find("hello world", "o w"), string.match("key = value", "(%w+)%s*=%s*(%w+)"))

-- closures and upvalues, varargs, recursion, integer/float semantics
local function counter()
  local c = 0
  return function(step) c = c + (step or 1); return c end
end
local c1, c2 = counter(), counter()
for i = 1, N * 100 do c1(); c2(2) end
print("counters", c1(), c2())
local function sum(...)
  local s = 0
  for i = 1, select("#", ...) do s = s + (select(i, ...)) end
  return s, select("#", ...)
end
print("varargs", sum(1, 2, 3, 4.5))
local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end
print("fib", fib(15 + N // 5))
print("ints", 7 // 2, -7 // 2, 7 % -3, -7 % 3, 7.0 // 2, 2^53, math.maxinteger + 1 == math.mininteger,
      1 / 0, -1 / 0, math.tointeger(3.0), 3 | 5, 6 & 3, 5 ~ 3, ~0, 1 << 62, -1 >> 1)
print("floats", 0.1 + 0.2, 1e300 * 1e10, math.floor(-3.5), math.ceil(-3.5), math.fmod(7, -3),
      math.abs(math.mininteger), string.format("%.14g", math.sqrt(2)), math.huge // 1)

-- metatables: operators, __index chains, __tostring, __len, __call
local V = {}
V.__index = V
V.__add = function(a, b) return setmetatable({x = a.x + b.x, y = a.y + b.y}, V) end
V.__eq = function(a, b) return a.x == b.x and a.y == b.y end
V.__tostring = function(v) return "(" .. v.x .. "," .. v.y .. ")" end
V.__len = function(v) return math.sqrt(v.x * v.x + v.y * v.y) end
V.__call = function(v, k) return v.x * k end
local acc = setmetatable({x = 0, y = 0}, V)
for i = 1, N * 100 do acc = acc + setmetatable({x = i, y = -i}, V) end
print("vectors", tostring(acc), #acc, acc(2), acc == setmetatable({x = acc.x, y = acc.y}, V))

-- garbage: many short-lived tables and strings, weak tables, collectgarbage
local weak = setmetatable({}, {__mode = "k"})
local live = {}
for i = 1, N * 2000 do
  local o = {i, tostring(i), {i * 2}}
  if i % 100 == 0 then live[#live + 1] = o end
  weak[o] = true
end
collectgarbage()
collectgarbage()
local nweak = 0
for _ in pairs(weak) do nweak = nweak + 1 end
print("gc", #live, nweak, collectgarbage("count") > 0)

-- a small interpreter: tokenise and evaluate arithmetic expressions
local function eval(src)
  local pos, tok = 1, nil
  local function nexttok()
    local s, e = src:find("^%s*", pos); pos = e + 1
    local num = src:match("^%d+%.?%d*", pos)
    if num then pos = pos + #num; tok = tonumber(num); return end
    tok = src:sub(pos, pos); pos = pos + 1
  end
  local expr
  local function atom()
    if tok == "(" then nexttok(); local v = expr(); nexttok(); return v end
    if tok == "-" then nexttok(); return -atom() end
    local v = tok; nexttok(); return v
  end
  local function term()
    local v = atom()
    while tok == "*" or tok == "/" do local op = tok; nexttok(); local r = atom(); v = op == "*" and v * r or v / r end
    return v
  end
  function expr()
    local v = term()
    while tok == "+" or tok == "-" do local op = tok; nexttok(); local r = term(); v = op == "+" and v + r or v - r end
    return v
  end
  nexttok()
  return expr()
end
print("eval", eval("1 + 2 * (3 - 4.5) / -2"), eval("((((7))))*6"), eval("10 / 4 - 1"))

-- utf8 and table functions
print("utf8", utf8.len("añ€😀"), utf8.char(72, 228, 8364), table.concat({1, 2, 3}, "+"),
      table.unpack({1, 2, 3}, 2), select(-1, "a", "b"), #table.pack(1, nil, 3))
local moved = table.move({1, 2, 3, 4, 5}, 2, 4, 1)
print("move", table.concat(moved, ","), next({}), type(print), math.type(1), math.type(1.0))
print("done")
