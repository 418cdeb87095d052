-- protocol.lua -- tlsrpt-milter as an MTA sees it, with miltertest(8):
-- what it answers at each step for a message it must not look at and
-- for a report mail, and what it asks the MTA to change.
--
-- Run by tests/integration/test_milter.c: miltertest -s tests/milter/protocol.lua
-- with MILTER_SOCK (inet:PORT@127.0.0.1) and REPORT_EML (a report mail).

local sock = os.getenv("MILTER_SOCK")
local eml = os.getenv("REPORT_EML")

local function check(cond, what)
	if not cond then
		error(what)
	end
end

local function reply_is(conn, want, what)
	local r = mt.getreply(conn)
	check(r == want, what .. ": reply " .. tostring(r))
end

conn = mt.connect(sock, 40, 0.25)
check(conn ~= nil, "cannot connect to " .. tostring(sock))
mt.macro(conn, SMFIC_CONNECT, "j", "mx.tlsrpt.test")
check(mt.conninfo(conn, "mx.sender.test", "192.0.2.1") == nil, "conninfo")
reply_is(conn, SMFIR_CONTINUE, "connect")

-- 1. no listed recipient: accepted at DATA, the body is never sent
check(mt.mailfrom(conn, "<a@sender.test>") == nil, "mailfrom")
reply_is(conn, SMFIR_CONTINUE, "mail")
check(mt.rcptto(conn, "<user@tlsrpt.test>") == nil, "rcptto")
reply_is(conn, SMFIR_CONTINUE, "rcpt")
check(mt.data(conn) == nil, "data")
reply_is(conn, SMFIR_ACCEPT, "unlisted at DATA")

-- 2. a report mail to the rua address (case and brackets differ)
local f = assert(io.open(eml, "rb"))
local msg = f:read("*a")
f:close()
msg = msg:gsub("\r\n", "\n")
local hend = msg:find("\n\n", 1, true)
local head, body = msg:sub(1, hend), msg:sub(hend + 2)

check(mt.mailfrom(conn, "<b@sender.test>") == nil, "mailfrom 2")
reply_is(conn, SMFIR_CONTINUE, "mail 2")
check(mt.rcptto(conn, "<TLSRPT@TLSRPT.TEST>") == nil, "rcptto 2")
reply_is(conn, SMFIR_CONTINUE, "listed rcpt")
check(mt.data(conn) == nil, "data 2")
reply_is(conn, SMFIR_CONTINUE, "listed at DATA")
check(mt.header(conn, "Authentication-Results",
    "mx.tlsrpt.test; dkim=pass header.d=google.com") == nil, "A-R")
reply_is(conn, SMFIR_CONTINUE, "A-R header")
-- unfold and send the headers one by one
local name, value
for line in head:gmatch("([^\n]*)\n") do
	if line:match("^[ \t]") and name ~= nil then
		value = value .. "\r\n" .. line
	else
		if name ~= nil then
			check(mt.header(conn, name, value) == nil, "header")
			reply_is(conn, SMFIR_CONTINUE, "header " .. name)
		end
		-- the value as sent, with its leading space (SMFIP_HDR_LEADSPC)
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
-- the milter asks for SMFIP_HDR_LEADSPC (header values as sent, for
-- DKIM), so the value it adds carries its own leading space
check(mt.eom_check(conn, MT_HDRADD, "X-TLSRPT-Collector", " spooled"),
    "no X-TLSRPT-Collector: spooled header")

mt.disconnect(conn)
