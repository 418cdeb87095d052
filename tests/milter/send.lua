-- send.lua -- one report mail to tlsrpt-milter with miltertest(8), as an
-- MTA would pass it: connect, MAIL, RCPT to the rua address, the headers
-- one by one, the body, end of message; the milter must answer continue
-- and add "X-TLSRPT-Collector: spooled" (the mail is durably spooled).
--
-- Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
--
-- Run by tests/unit/test_scaleout.c: miltertest -s tests/milter/send.lua
-- with MILTER_SOCK (inet:PORT@127.0.0.1), REPORT_EML (a report mail) and
-- RCPT (the rua address).

local sock = os.getenv("MILTER_SOCK")
local eml = os.getenv("REPORT_EML")
local rcpt = os.getenv("RCPT")

local function check(cond, what)
	if not cond then
		error(what)
	end
end

local function reply_is(conn, want, what)
	local r = mt.getreply(conn)
	check(r == want, what .. ": reply " .. tostring(r))
end

local f = assert(io.open(eml, "rb"))
local msg = f:read("*a")
f:close()
msg = msg:gsub("\r\n", "\n")
local hend = msg:find("\n\n", 1, true)
local head, body = msg:sub(1, hend), msg:sub(hend + 2)

conn = mt.connect(sock, 40, 0.25)
check(conn ~= nil, "cannot connect to " .. tostring(sock))
mt.macro(conn, SMFIC_CONNECT, "j", "mx.tlsrpt.test")
check(mt.conninfo(conn, "mx.sender.test", "192.0.2.1") == nil, "conninfo")
reply_is(conn, SMFIR_CONTINUE, "connect")
check(mt.mailfrom(conn, "<tlsrpt-noreply@sender.test>") == nil, "mailfrom")
reply_is(conn, SMFIR_CONTINUE, "mail")
check(mt.rcptto(conn, "<" .. rcpt .. ">") == nil, "rcptto")
reply_is(conn, SMFIR_CONTINUE, "rcpt")
check(mt.data(conn) == nil, "data")
reply_is(conn, SMFIR_CONTINUE, "data")
local name, value
for line in head:gmatch("([^\n]*)\n") do
	if line:match("^[ \t]") and name ~= nil then
		value = value .. "\r\n" .. line
	else
		if name ~= nil then
			check(mt.header(conn, name, value) == nil, "header")
			reply_is(conn, SMFIR_CONTINUE, "header " .. name)
		end
		name, value = line:match("^([^:]+):(.*)$")
	end
end
if name ~= nil then
	check(mt.header(conn, name, value) == nil, "header")
	reply_is(conn, SMFIR_CONTINUE, "header " .. name)
end
check(mt.eoh(conn) == nil, "eoh")
reply_is(conn, SMFIR_CONTINUE, "eoh")
check(mt.bodystring(conn, (body:gsub("\n", "\r\n"))) == nil, "body")
reply_is(conn, SMFIR_CONTINUE, "body")
check(mt.eom(conn) == nil, "eom")
reply_is(conn, SMFIR_CONTINUE, "eom")
check(mt.eom_check(conn, MT_HDRADD, "X-TLSRPT-Collector", " spooled"),
    "no X-TLSRPT-Collector: spooled header")
mt.disconnect(conn)
