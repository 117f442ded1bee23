// Generated against redis-server 7.0.15 by running each case with EVAL (FLUSHALL between).
/// Script, keys, arguments, whether the client speaks RESP3, redis-server's reply.
pub(super) type EvalCase = (
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
    bool,
    &'static [u8],
);

pub(super) const EVAL_CASES: &[EvalCase] = &[
    ("return 1", &[], &[], false, b":1\x0d\x0a"),
    ("return 1", &[], &[], true, b":1\x0d\x0a"),
    ("return 'hello'", &[], &[], false, b"$5\x0d\x0ahello\x0d\x0a"),
    ("return 'hello'", &[], &[], true, b"$5\x0d\x0ahello\x0d\x0a"),
    ("return {1,2,3,'ciao',{1,2}}", &[], &[], false, b"*5\x0d\x0a:1\x0d\x0a:2\x0d\x0a:3\x0d\x0a$4\x0d\x0aciao\x0d\x0a*2\x0d\x0a:1\x0d\x0a:2\x0d\x0a"),
    ("return {1,2,3,'ciao',{1,2}}", &[], &[], true, b"*5\x0d\x0a:1\x0d\x0a:2\x0d\x0a:3\x0d\x0a$4\x0d\x0aciao\x0d\x0a*2\x0d\x0a:1\x0d\x0a:2\x0d\x0a"),
    ("return {1,2,nil,4}", &[], &[], false, b"*2\x0d\x0a:1\x0d\x0a:2\x0d\x0a"),
    ("return {1,2,nil,4}", &[], &[], true, b"*2\x0d\x0a:1\x0d\x0a:2\x0d\x0a"),
    ("return true", &[], &[], false, b":1\x0d\x0a"),
    ("return true", &[], &[], true, b":1\x0d\x0a"),
    ("return false", &[], &[], false, b"$-1\x0d\x0a"),
    ("return false", &[], &[], true, b"_\x0d\x0a"),
    ("return nil", &[], &[], false, b"$-1\x0d\x0a"),
    ("return nil", &[], &[], true, b"_\x0d\x0a"),
    ("return 3.99", &[], &[], false, b":3\x0d\x0a"),
    ("return 3.99", &[], &[], true, b":3\x0d\x0a"),
    ("return -3.99", &[], &[], false, b":-3\x0d\x0a"),
    ("return -3.99", &[], &[], true, b":-3\x0d\x0a"),
    ("return 1e300", &[], &[], false, b":-9223372036854775808\x0d\x0a"),
    ("return 1e300", &[], &[], true, b":-9223372036854775808\x0d\x0a"),
    ("return 0/0", &[], &[], false, b":-9223372036854775808\x0d\x0a"),
    ("return 0/0", &[], &[], true, b":-9223372036854775808\x0d\x0a"),
    ("return {err='My Error'}", &[], &[], false, b"-My Error\x0d\x0a"),
    ("return {err='My Error'}", &[], &[], true, b"-My Error\x0d\x0a"),
    ("return redis.error_reply('x')", &[], &[], false, b"-ERR x\x0d\x0a"),
    ("return redis.error_reply('x')", &[], &[], true, b"-ERR x\x0d\x0a"),
    ("return redis.error_reply('-MY x')", &[], &[], false, b"-MY x\x0d\x0a"),
    ("return redis.error_reply('-MY x')", &[], &[], true, b"-MY x\x0d\x0a"),
    ("return redis.error_reply('MY')", &[], &[], false, b"-ERR MY\x0d\x0a"),
    ("return redis.error_reply('MY')", &[], &[], true, b"-ERR MY\x0d\x0a"),
    ("return redis.status_reply('FINE')", &[], &[], false, b"+FINE\x0d\x0a"),
    ("return redis.status_reply('FINE')", &[], &[], true, b"+FINE\x0d\x0a"),
    ("return {ok='ok'}", &[], &[], false, b"+ok\x0d\x0a"),
    ("return {ok='ok'}", &[], &[], true, b"+ok\x0d\x0a"),
    ("return {err=1}", &[], &[], false, b"*0\x0d\x0a"),
    ("return {err=1}", &[], &[], true, b"*0\x0d\x0a"),
    ("return redis.error_reply(1)", &[], &[], false, b"-ERR wrong number or type of arguments\x0d\x0a"),
    ("return redis.error_reply(1)", &[], &[], true, b"-ERR wrong number or type of arguments\x0d\x0a"),
    ("redis.call('set',KEYS[1],ARGV[1]); return redis.call('get',KEYS[1])", &["k"], &["v"], false, b"$1\x0d\x0av\x0d\x0a"),
    ("redis.call('set',KEYS[1],ARGV[1]); return redis.call('get',KEYS[1])", &["k"], &["v"], true, b"$1\x0d\x0av\x0d\x0a"),
    ("return redis.call('set','x','y')", &[], &[], false, b"+OK\x0d\x0a"),
    ("return redis.call('set','x','y')", &[], &[], true, b"+OK\x0d\x0a"),
    ("return redis.call('get','nokey')", &[], &[], false, b"$-1\x0d\x0a"),
    ("return redis.call('get','nokey')", &[], &[], true, b"_\x0d\x0a"),
    ("redis.call('set','x','y'); return redis.call('incr','x')", &[], &[], false, b"-ERR value is not an integer or out of range script: fa08f981d065b8cbf85a22aa2263f1864389d1ca, on @user_script:1.\x0d\x0a"),
    ("redis.call('set','x','y'); return redis.call('incr','x')", &[], &[], true, b"-ERR value is not an integer or out of range script: fa08f981d065b8cbf85a22aa2263f1864389d1ca, on @user_script:1.\x0d\x0a"),
    ("redis.call('set','x','y'); return redis.pcall('incr','x')", &[], &[], false, b"-ERR value is not an integer or out of range\x0d\x0a"),
    ("redis.call('set','x','y'); return redis.pcall('incr','x')", &[], &[], true, b"-ERR value is not an integer or out of range\x0d\x0a"),
    ("redis.call('set','x','y'); local ok, e = pcall(redis.call,'incr','x'); return {tostring(ok), e}", &[], &[], false, b"*2\x0d\x0a$5\x0d\x0afalse\x0d\x0a$43\x0d\x0aERR value is not an integer or out of range\x0d\x0a"),
    ("redis.call('set','x','y'); local ok, e = pcall(redis.call,'incr','x'); return {tostring(ok), e}", &[], &[], true, b"*2\x0d\x0a$5\x0d\x0afalse\x0d\x0a$43\x0d\x0aERR value is not an integer or out of range\x0d\x0a"),
    ("redis.call('set','x','y'); local ok, e = pcall(redis.call,'incr','x'); return type(e)", &[], &[], false, b"$6\x0d\x0astring\x0d\x0a"),
    ("redis.call('set','x','y'); local ok, e = pcall(redis.call,'incr','x'); return type(e)", &[], &[], true, b"$6\x0d\x0astring\x0d\x0a"),
    ("return redis.call('nosuch')", &[], &[], false, b"-ERR Unknown Redis command called from script script: 206396248e12c6e742fd7296250433c8d7343b74, on @user_script:1.\x0d\x0a"),
    ("return redis.call('nosuch')", &[], &[], true, b"-ERR Unknown Redis command called from script script: 206396248e12c6e742fd7296250433c8d7343b74, on @user_script:1.\x0d\x0a"),
    ("return redis.call('get')", &[], &[], false, b"-ERR Wrong number of args calling Redis command from script script: f187dee77f607f7cff00bbabc9df38507582c78d, on @user_script:1.\x0d\x0a"),
    ("return redis.call('get')", &[], &[], true, b"-ERR Wrong number of args calling Redis command from script script: f187dee77f607f7cff00bbabc9df38507582c78d, on @user_script:1.\x0d\x0a"),
    ("return redis.call('blpop','x',0)", &[], &[], false, b"-ERR This Redis command is not allowed from script script: dc8544b16dbbf6be3c0abd9cf77dabeba2686fd6, on @user_script:1.\x0d\x0a"),
    ("return redis.call('blpop','x',0)", &[], &[], true, b"-ERR This Redis command is not allowed from script script: dc8544b16dbbf6be3c0abd9cf77dabeba2686fd6, on @user_script:1.\x0d\x0a"),
    ("return redis.call('client','id')", &[], &[], false, b"-ERR This Redis command is not allowed from script script: 6b57691688c1a59f07a7665ec9d907a922123bf8, on @user_script:1.\x0d\x0a"),
    ("return redis.call('client','id')", &[], &[], true, b"-ERR This Redis command is not allowed from script script: 6b57691688c1a59f07a7665ec9d907a922123bf8, on @user_script:1.\x0d\x0a"),
    ("return redis.call('client','nosuchsub')", &[], &[], false, b"-ERR Unknown Redis command called from script script: 47d0e9c4f8b4fab3e9aa1a198f06599412b4e4f8, on @user_script:1.\x0d\x0a"),
    ("return redis.call('client','nosuchsub')", &[], &[], true, b"-ERR Unknown Redis command called from script script: 47d0e9c4f8b4fab3e9aa1a198f06599412b4e4f8, on @user_script:1.\x0d\x0a"),
    ("return redis.call()", &[], &[], false, b"-ERR Please specify at least one argument for this redis lib call script: 0a907e1429221a4d85516cab7fd219a82a9439d8, on @user_script:1.\x0d\x0a"),
    ("return redis.call()", &[], &[], true, b"-ERR Please specify at least one argument for this redis lib call script: 0a907e1429221a4d85516cab7fd219a82a9439d8, on @user_script:1.\x0d\x0a"),
    ("return redis.call({})", &[], &[], false, b"-ERR Lua redis lib command arguments must be strings or integers script: 80747816df1f4411f7c442b928fce6a814214839, on @user_script:1.\x0d\x0a"),
    ("return redis.call({})", &[], &[], true, b"-ERR Lua redis lib command arguments must be strings or integers script: 80747816df1f4411f7c442b928fce6a814214839, on @user_script:1.\x0d\x0a"),
    ("return redis.pcall('nosuch')", &[], &[], false, b"-ERR Unknown Redis command called from script\x0d\x0a"),
    ("return redis.pcall('nosuch')", &[], &[], true, b"-ERR Unknown Redis command called from script\x0d\x0a"),
    ("return redis.pcall()", &[], &[], false, b"-ERR Please specify at least one argument for this redis lib call\x0d\x0a"),
    ("return redis.pcall()", &[], &[], true, b"-ERR Please specify at least one argument for this redis lib call\x0d\x0a"),
    ("return redis.sha1hex('Pizza & Mandolino')", &[], &[], false, b"$40\x0d\x0a74822d82031af7493c20eefa13bd07ec4fada82f\x0d\x0a"),
    ("return redis.sha1hex('Pizza & Mandolino')", &[], &[], true, b"$40\x0d\x0a74822d82031af7493c20eefa13bd07ec4fada82f\x0d\x0a"),
    ("return redis.sha1hex()", &[], &[], false, b"-ERR wrong number of arguments script: 3c7ce947ae74a835cc575b6ee87fb27503cb7ba4, on @user_script:1.\x0d\x0a"),
    ("return redis.sha1hex()", &[], &[], true, b"-ERR wrong number of arguments script: 3c7ce947ae74a835cc575b6ee87fb27503cb7ba4, on @user_script:1.\x0d\x0a"),
    ("return a", &[], &[], false, b"-ERR user_script:1: Script attempted to access nonexistent global variable 'a' script: bbfcd1ececc90deec823f7fb730e4bfb2a4ba625, on @user_script:1.\x0d\x0a"),
    ("return a", &[], &[], true, b"-ERR user_script:1: Script attempted to access nonexistent global variable 'a' script: bbfcd1ececc90deec823f7fb730e4bfb2a4ba625, on @user_script:1.\x0d\x0a"),
    ("a = 1", &[], &[], false, b"-ERR user_script:1: Attempt to modify a readonly table script: b88f1ec0c9fe96fde96a6f9dabcbeee661dd7afe, on @user_script:1.\x0d\x0a"),
    ("a = 1", &[], &[], true, b"-ERR user_script:1: Attempt to modify a readonly table script: b88f1ec0c9fe96fde96a6f9dabcbeee661dd7afe, on @user_script:1.\x0d\x0a"),
    ("setmetatable(_G,{})", &[], &[], false, b"-ERR Attempt to modify a readonly table script: e8f1b52cec0990f58c59b37010d130cfdce9e1a5, on @user_script:1.\x0d\x0a"),
    ("setmetatable(_G,{})", &[], &[], true, b"-ERR Attempt to modify a readonly table script: e8f1b52cec0990f58c59b37010d130cfdce9e1a5, on @user_script:1.\x0d\x0a"),
    ("local g=getmetatable(_G); g.__index={}", &[], &[], false, b"-ERR user_script:1: Attempt to modify a readonly table script: 494b3419a9af26ffea5ada4962b68c3f619864ef, on @user_script:1.\x0d\x0a"),
    ("local g=getmetatable(_G); g.__index={}", &[], &[], true, b"-ERR user_script:1: Attempt to modify a readonly table script: 494b3419a9af26ffea5ada4962b68c3f619864ef, on @user_script:1.\x0d\x0a"),
    ("redis=function() end", &[], &[], false, b"-ERR user_script:1: Attempt to modify a readonly table script: f81968cb94abbe9311a2564ded2aa016d7a20d65, on @user_script:1.\x0d\x0a"),
    ("redis=function() end", &[], &[], true, b"-ERR user_script:1: Attempt to modify a readonly table script: f81968cb94abbe9311a2564ded2aa016d7a20d65, on @user_script:1.\x0d\x0a"),
    ("_G={}", &[], &[], false, b"-ERR user_script:1: Attempt to modify a readonly table script: ccf5419dff91107463a456aa3d4e8dbeea34b8d0, on @user_script:1.\x0d\x0a"),
    ("_G={}", &[], &[], true, b"-ERR user_script:1: Attempt to modify a readonly table script: ccf5419dff91107463a456aa3d4e8dbeea34b8d0, on @user_script:1.\x0d\x0a"),
    ("redis.call=function() end", &[], &[], false, b"-ERR user_script:1: Attempt to modify a readonly table script: 5b3de0723a32602780317a89fa9a876d218bd96a, on @user_script:1.\x0d\x0a"),
    ("redis.call=function() end", &[], &[], true, b"-ERR user_script:1: Attempt to modify a readonly table script: 5b3de0723a32602780317a89fa9a876d218bd96a, on @user_script:1.\x0d\x0a"),
    ("bit.lshift=function() end", &[], &[], false, b"-ERR user_script:1: Attempt to modify a readonly table script: cd143322e9e3f76dac86d886fdb117c00aed491b, on @user_script:1.\x0d\x0a"),
    ("bit.lshift=function() end", &[], &[], true, b"-ERR user_script:1: Attempt to modify a readonly table script: cd143322e9e3f76dac86d886fdb117c00aed491b, on @user_script:1.\x0d\x0a"),
    ("rawset(_G,'x',1)", &[], &[], false, b"-ERR Attempt to modify a readonly table script: 90860ee597073785c7a12c667667abc4495e2c78, on @user_script:1.\x0d\x0a"),
    ("rawset(_G,'x',1)", &[], &[], true, b"-ERR Attempt to modify a readonly table script: 90860ee597073785c7a12c667667abc4495e2c78, on @user_script:1.\x0d\x0a"),
    ("string.x=1", &[], &[], false, b"-ERR user_script:1: Attempt to modify a readonly table script: 0200261db1e7771c266e77366576961c8f228af1, on @user_script:1.\x0d\x0a"),
    ("string.x=1", &[], &[], true, b"-ERR user_script:1: Attempt to modify a readonly table script: 0200261db1e7771c266e77366576961c8f228af1, on @user_script:1.\x0d\x0a"),
    ("loadfile('x')", &[], &[], false, b"-ERR user_script:1: Script attempted to access nonexistent global variable 'loadfile' script: cd22fc3dd8a78f493604a1c08f9ed8c40af19447, on @user_script:1.\x0d\x0a"),
    ("loadfile('x')", &[], &[], true, b"-ERR user_script:1: Script attempted to access nonexistent global variable 'loadfile' script: cd22fc3dd8a78f493604a1c08f9ed8c40af19447, on @user_script:1.\x0d\x0a"),
    ("print('x')", &[], &[], false, b"-ERR user_script:1: Script attempted to access nonexistent global variable 'print' script: af544869f07ee0ff98e955508566826cfc6fcf49, on @user_script:1.\x0d\x0a"),
    ("print('x')", &[], &[], true, b"-ERR user_script:1: Script attempted to access nonexistent global variable 'print' script: af544869f07ee0ff98e955508566826cfc6fcf49, on @user_script:1.\x0d\x0a"),
    ("return os", &[], &[], false, b"-ERR user_script:1: Script attempted to access nonexistent global variable 'os' script: f03b5ad6e7d58786b6a5e879efbea4a4408f5c2f, on @user_script:1.\x0d\x0a"),
    ("return os", &[], &[], true, b"-ERR user_script:1: Script attempted to access nonexistent global variable 'os' script: f03b5ad6e7d58786b6a5e879efbea4a4408f5c2f, on @user_script:1.\x0d\x0a"),
    ("return io", &[], &[], false, b"-ERR user_script:1: Script attempted to access nonexistent global variable 'io' script: badfe324d30f60abd2dbecf4d4b0f915038384e2, on @user_script:1.\x0d\x0a"),
    ("return io", &[], &[], true, b"-ERR user_script:1: Script attempted to access nonexistent global variable 'io' script: badfe324d30f60abd2dbecf4d4b0f915038384e2, on @user_script:1.\x0d\x0a"),
    ("redis.setresp(3); return redis.call('hgetall', 'h')", &[], &[], false, b"*0\x0d\x0a"),
    ("redis.setresp(3); return redis.call('hgetall', 'h')", &[], &[], true, b"%0\x0d\x0a"),
    ("redis.call('hset','h','a','1'); redis.setresp(3); return redis.call('hgetall', 'h')", &[], &[], false, b"*2\x0d\x0a$1\x0d\x0aa\x0d\x0a$1\x0d\x0a1\x0d\x0a"),
    ("redis.call('hset','h','a','1'); redis.setresp(3); return redis.call('hgetall', 'h')", &[], &[], true, b"%1\x0d\x0a$1\x0d\x0aa\x0d\x0a$1\x0d\x0a1\x0d\x0a"),
    ("redis.call('hset','h','a','1'); return redis.call('hgetall', 'h')", &[], &[], false, b"*2\x0d\x0a$1\x0d\x0aa\x0d\x0a$1\x0d\x0a1\x0d\x0a"),
    ("redis.call('hset','h','a','1'); return redis.call('hgetall', 'h')", &[], &[], true, b"*2\x0d\x0a$1\x0d\x0aa\x0d\x0a$1\x0d\x0a1\x0d\x0a"),
    ("redis.call('hset','h','a','1'); redis.setresp(3); local r = redis.call('hgetall', 'h'); return r.map.a", &[], &[], false, b"$1\x0d\x0a1\x0d\x0a"),
    ("redis.call('hset','h','a','1'); redis.setresp(3); local r = redis.call('hgetall', 'h'); return r.map.a", &[], &[], true, b"$1\x0d\x0a1\x0d\x0a"),
    ("return {map={a=1}}", &[], &[], false, b"*2\x0d\x0a$1\x0d\x0aa\x0d\x0a:1\x0d\x0a"),
    ("return {map={a=1}}", &[], &[], true, b"%1\x0d\x0a$1\x0d\x0aa\x0d\x0a:1\x0d\x0a"),
    ("return {set={a=true}}", &[], &[], false, b"*1\x0d\x0a$1\x0d\x0aa\x0d\x0a"),
    ("return {set={a=true}}", &[], &[], true, b"~1\x0d\x0a$1\x0d\x0aa\x0d\x0a"),
    ("return {double=3.14}", &[], &[], false, b"$18\x0d\x0a3.1400000000000001\x0d\x0a"),
    ("return {double=3.14}", &[], &[], true, b",3.1400000000000001\x0d\x0a"),
    ("return {big_number='123'}", &[], &[], false, b"$3\x0d\x0a123\x0d\x0a"),
    ("return {big_number='123'}", &[], &[], true, b"(123\x0d\x0a"),
    ("return {verbatim_string={format='txt',string='hi'}}", &[], &[], false, b"$2\x0d\x0ahi\x0d\x0a"),
    ("return {verbatim_string={format='txt',string='hi'}}", &[], &[], true, b"=6\x0d\x0atxt:hi\x0d\x0a"),
    ("redis.setresp(3); return true", &[], &[], false, b":1\x0d\x0a"),
    ("redis.setresp(3); return true", &[], &[], true, b"#t\x0d\x0a"),
    ("redis.setresp(3); return false", &[], &[], false, b":0\x0d\x0a"),
    ("redis.setresp(3); return false", &[], &[], true, b"#f\x0d\x0a"),
    ("redis.setresp(2); return false", &[], &[], false, b"$-1\x0d\x0a"),
    ("redis.setresp(2); return false", &[], &[], true, b"_\x0d\x0a"),
    ("redis.setresp(4)", &[], &[], false, b"-ERR RESP version must be 2 or 3. script: 68e72e4d8a428b9f599dce492315f2455a425a82, on @user_script:1.\x0d\x0a"),
    ("redis.setresp(4)", &[], &[], true, b"-ERR RESP version must be 2 or 3. script: 68e72e4d8a428b9f599dce492315f2455a425a82, on @user_script:1.\x0d\x0a"),
    ("redis.setresp()", &[], &[], false, b"-ERR redis.setresp() requires one argument. script: 42aacaf580759e59c97e8b1974d08a62f960014f, on @user_script:1.\x0d\x0a"),
    ("redis.setresp()", &[], &[], true, b"-ERR redis.setresp() requires one argument. script: 42aacaf580759e59c97e8b1974d08a62f960014f, on @user_script:1.\x0d\x0a"),
    ("return math.random()", &[], &[], false, b":0\x0d\x0a"),
    ("return math.random(10)", &[], &[], false, b":9\x0d\x0a"),
    ("math.randomseed(42); return math.random(100)", &[], &[], false, b":75\x0d\x0a"),
    ("return math.random(5, 7)", &[], &[], false, b":6\x0d\x0a"),
    ("return math.random(0)", &[], &[], false, b"-ERR user_script:1: bad argument #1 to 'random' (interval is empty) script: 008bcb60f86ee36d26c67b641b46674578d9cba0, on @user_script:1.\x0d\x0a"),
    ("return bit.tohex(65535)", &[], &[], false, b"$8\x0d\x0a0000ffff\x0d\x0a"),
    ("return bit.tohex(65535)", &[], &[], true, b"$8\x0d\x0a0000ffff\x0d\x0a"),
    ("return bit.band(0xff, 0x0f)", &[], &[], false, b":15\x0d\x0a"),
    ("return bit.band(0xff, 0x0f)", &[], &[], true, b":15\x0d\x0a"),
    ("return bit.tohex(-1, -4)", &[], &[], false, b"$4\x0d\x0aFFFF\x0d\x0a"),
    ("return bit.tohex(-1, -4)", &[], &[], true, b"$4\x0d\x0aFFFF\x0d\x0a"),
    ("return bit.tobit(2^32+1)", &[], &[], false, b":1\x0d\x0a"),
    ("return bit.tobit(2^32+1)", &[], &[], true, b":1\x0d\x0a"),
    ("return bit.rol(1, 33)", &[], &[], false, b":2\x0d\x0a"),
    ("return bit.rol(1, 33)", &[], &[], true, b":2\x0d\x0a"),
    ("return bit.tohex()", &[], &[], false, b"-ERR user_script:1: bad argument #1 to 'tohex' (number expected, got no value) script: bbebe1b19aaebf97fcec4b5510d6e6a9817e9192, on @user_script:1.\x0d\x0a"),
    ("return bit.tohex()", &[], &[], true, b"-ERR user_script:1: bad argument #1 to 'tohex' (number expected, got no value) script: bbebe1b19aaebf97fcec4b5510d6e6a9817e9192, on @user_script:1.\x0d\x0a"),
    ("return bit.bnot(0)", &[], &[], false, b":-1\x0d\x0a"),
    ("return bit.bnot(0)", &[], &[], true, b":-1\x0d\x0a"),
    ("return bit.arshift(-256, 4)", &[], &[], false, b":-16\x0d\x0a"),
    ("return bit.arshift(-256, 4)", &[], &[], true, b":-16\x0d\x0a"),
    ("return bit.bswap(0x12345678)", &[], &[], false, b":2018915346\x0d\x0a"),
    ("return bit.bswap(0x12345678)", &[], &[], true, b":2018915346\x0d\x0a"),
    ("error('x')", &[], &[], false, b"-ERR user_script:1: x script: 9851144f39f03a0d597a980c5aa79c80cb696891, on @user_script:1.\x0d\x0a"),
    ("error('x')", &[], &[], true, b"-ERR user_script:1: x script: 9851144f39f03a0d597a980c5aa79c80cb696891, on @user_script:1.\x0d\x0a"),
    ("error({err='MY x'})", &[], &[], false, b"-MY x script: 892d3143709ed90870061a291d50ce1f009cd7bf, on @user_script:1.\x0d\x0a"),
    ("error({err='MY x'})", &[], &[], true, b"-MY x script: 892d3143709ed90870061a291d50ce1f009cd7bf, on @user_script:1.\x0d\x0a"),
    ("retur 1", &[], &[], false, b"-ERR Error compiling script (new function): user_script:1: '=' expected near '1'\x0d\x0a"),
    ("retur 1", &[], &[], true, b"-ERR Error compiling script (new function): user_script:1: '=' expected near '1'\x0d\x0a"),
    ("error('x', 0)", &[], &[], false, b"-ERR x script: a8325ab498c94f38b1b3e86862697a313b6dbe35, on @user_script:1.\x0d\x0a"),
    ("error('x', 0)", &[], &[], true, b"-ERR x script: a8325ab498c94f38b1b3e86862697a313b6dbe35, on @user_script:1.\x0d\x0a"),
    ("error()", &[], &[], false, b"-ERR nil script: aca90d914519fdb9825352bdc0befb59f7c8510f, on @user_script:1.\x0d\x0a"),
    ("error()", &[], &[], true, b"-ERR nil script: aca90d914519fdb9825352bdc0befb59f7c8510f, on @user_script:1.\x0d\x0a"),
    ("return {KEYS[1], ARGV[1], #KEYS, #ARGV}", &["k1", "k2"], &["a1"], false, b"*4\x0d\x0a$2\x0d\x0ak1\x0d\x0a$2\x0d\x0aa1\x0d\x0a:2\x0d\x0a:1\x0d\x0a"),
    ("return {KEYS[1], ARGV[1], #KEYS, #ARGV}", &["k1", "k2"], &["a1"], true, b"*4\x0d\x0a$2\x0d\x0ak1\x0d\x0a$2\x0d\x0aa1\x0d\x0a:2\x0d\x0a:1\x0d\x0a"),
    ("return redis.REDIS_VERSION", &[], &[], false, b"$6\x0d\x0a7.0.15\x0d\x0a"),
    ("return redis.REDIS_VERSION", &[], &[], true, b"$6\x0d\x0a7.0.15\x0d\x0a"),
    ("return redis.LOG_WARNING", &[], &[], false, b":3\x0d\x0a"),
    ("return redis.LOG_WARNING", &[], &[], true, b":3\x0d\x0a"),
    ("return redis.REDIS_VERSION_NUM", &[], &[], false, b":458767\x0d\x0a"),
    ("return redis.REDIS_VERSION_NUM", &[], &[], true, b":458767\x0d\x0a"),
    ("return redis.REPL_ALL", &[], &[], false, b":3\x0d\x0a"),
    ("return redis.REPL_ALL", &[], &[], true, b":3\x0d\x0a"),
    ("return tostring(0.1)", &[], &[], false, b"$3\x0d\x0a0.1\x0d\x0a"),
    ("return tostring(0.1)", &[], &[], true, b"$3\x0d\x0a0.1\x0d\x0a"),
    ("return string.format('%.17g', 0.1)", &[], &[], false, b"$19\x0d\x0a0.10000000000000001\x0d\x0a"),
    ("return string.format('%.17g', 0.1)", &[], &[], true, b"$19\x0d\x0a0.10000000000000001\x0d\x0a"),
    ("return redis.call('echo', 3.5)", &[], &[], false, b"$3\x0d\x0a3.5\x0d\x0a"),
    ("return redis.call('echo', 3.5)", &[], &[], true, b"$3\x0d\x0a3.5\x0d\x0a"),
    ("return redis.call('echo', 0.1)", &[], &[], false, b"$19\x0d\x0a0.10000000000000001\x0d\x0a"),
    ("return redis.call('echo', 0.1)", &[], &[], true, b"$19\x0d\x0a0.10000000000000001\x0d\x0a"),
    ("return redis.call('echo', 100)", &[], &[], false, b"$3\x0d\x0a100\x0d\x0a"),
    ("return redis.call('echo', 100)", &[], &[], true, b"$3\x0d\x0a100\x0d\x0a"),
    ("return redis.call('echo', -0.0)", &[], &[], false, b"$2\x0d\x0a-0\x0d\x0a"),
    ("return redis.call('echo', -0.0)", &[], &[], true, b"$2\x0d\x0a-0\x0d\x0a"),
    ("return {1, {err='x'}, {ok='y'}}", &[], &[], false, b"*3\x0d\x0a:1\x0d\x0a-x\x0d\x0a+y\x0d\x0a"),
    ("return {1, {err='x'}, {ok='y'}}", &[], &[], true, b"*3\x0d\x0a:1\x0d\x0a-x\x0d\x0a+y\x0d\x0a"),
    ("return loadstring('return 1')()", &[], &[], false, b":1\x0d\x0a"),
    ("return loadstring('return 1')()", &[], &[], true, b":1\x0d\x0a"),
    ("loadstring('a=1')()", &[], &[], false, b"-ERR [string \x22a=1\x22]:1: Attempt to modify a readonly table script: a49b8d49ca1395a7e75d1a724eb9731039e997bf, on a=1:1.\x0d\x0a"),
    ("loadstring('a=1')()", &[], &[], true, b"-ERR [string \x22a=1\x22]:1: Attempt to modify a readonly table script: a49b8d49ca1395a7e75d1a724eb9731039e997bf, on a=1:1.\x0d\x0a"),
    ("return string.rep()", &[], &[], false, b"-ERR user_script:1: bad argument #1 to 'rep' (string expected, got no value) script: 312a592c4be4cbcb6748209b815c8eb090f3ca71, on @user_script:1.\x0d\x0a"),
    ("return string.rep()", &[], &[], true, b"-ERR user_script:1: bad argument #1 to 'rep' (string expected, got no value) script: 312a592c4be4cbcb6748209b815c8eb090f3ca71, on @user_script:1.\x0d\x0a"),
    ("return string.rep('x', 3)", &[], &[], false, b"$3\x0d\x0axxx\x0d\x0a"),
    ("return string.rep('x', 3)", &[], &[], true, b"$3\x0d\x0axxx\x0d\x0a"),
    ("return table.concat({1,2,3}, ',')", &[], &[], false, b"$5\x0d\x0a1,2,3\x0d\x0a"),
    ("return table.concat({1,2,3}, ',')", &[], &[], true, b"$5\x0d\x0a1,2,3\x0d\x0a"),
    ("return type(pairs(_G))", &[], &[], false, b"$8\x0d\x0afunction\x0d\x0a"),
    ("return type(pairs(_G))", &[], &[], true, b"$8\x0d\x0afunction\x0d\x0a"),
    ("local n = 0 for k,v in pairs(redis) do n = n + 1 end return n", &[], &[], false, b":23\x0d\x0a"),
    ("local n = 0 for k,v in pairs(redis) do n = n + 1 end return n", &[], &[], true, b":23\x0d\x0a"),
    ("return redis.breakpoint()", &[], &[], false, b"$-1\x0d\x0a"),
    ("return redis.breakpoint()", &[], &[], true, b"_\x0d\x0a"),
    ("return redis.replicate_commands()", &[], &[], false, b":1\x0d\x0a"),
    ("return redis.replicate_commands()", &[], &[], true, b":1\x0d\x0a"),
    ("redis.set_repl(redis.REPL_NONE) return 1", &[], &[], false, b":1\x0d\x0a"),
    ("redis.set_repl(redis.REPL_NONE) return 1", &[], &[], true, b":1\x0d\x0a"),
    ("redis.set_repl(9)", &[], &[], false, b"-ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE. script: 4f4229ed072529678bbea9429f2d7b099eb34534, on @user_script:1.\x0d\x0a"),
    ("redis.set_repl(9)", &[], &[], true, b"-ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE. script: 4f4229ed072529678bbea9429f2d7b099eb34534, on @user_script:1.\x0d\x0a"),
    ("redis.log(redis.LOG_WARNING, 'hi') return 1", &[], &[], false, b":1\x0d\x0a"),
    ("redis.log(redis.LOG_WARNING, 'hi') return 1", &[], &[], true, b":1\x0d\x0a"),
    ("redis.log(9, 'hi')", &[], &[], false, b"-ERR Invalid debug level. script: b98e48e3f96f55a92bff55971b07eada9e11e1c5, on @user_script:1.\x0d\x0a"),
    ("redis.log(9, 'hi')", &[], &[], true, b"-ERR Invalid debug level. script: b98e48e3f96f55a92bff55971b07eada9e11e1c5, on @user_script:1.\x0d\x0a"),
    ("redis.log('x')", &[], &[], false, b"-ERR redis.log() requires two arguments or more. script: 4365d697bcf18447f1a1b2cbfc70a188fabcdcff, on @user_script:1.\x0d\x0a"),
    ("redis.log('x')", &[], &[], true, b"-ERR redis.log() requires two arguments or more. script: 4365d697bcf18447f1a1b2cbfc70a188fabcdcff, on @user_script:1.\x0d\x0a"),
    ("return pcall(error, 'x')", &[], &[], false, b"$-1\x0d\x0a"),
    ("return pcall(error, 'x')", &[], &[], true, b"_\x0d\x0a"),
    ("local ok, e = pcall(error, {err='x'}) return e", &[], &[], false, b"$1\x0d\x0ax\x0d\x0a"),
    ("local ok, e = pcall(error, {err='x'}) return e", &[], &[], true, b"$1\x0d\x0ax\x0d\x0a"),
    ("local t = {} t[1] = t return 1", &[], &[], false, b":1\x0d\x0a"),
    ("local t = {} t[1] = t return 1", &[], &[], true, b":1\x0d\x0a"),
    ("return redis.call('get', 'x', 'y')", &[], &[], false, b"-ERR Wrong number of args calling Redis command from script script: 15c43414de7829101a7a03240f2b587bead87fe3, on @user_script:1.\x0d\x0a"),
    ("return redis.call('get', 'x', 'y')", &[], &[], true, b"-ERR Wrong number of args calling Redis command from script script: 15c43414de7829101a7a03240f2b587bead87fe3, on @user_script:1.\x0d\x0a"),
    ("return redis.pcall('get', 'x', 'y')", &[], &[], false, b"-ERR Wrong number of args calling Redis command from script\x0d\x0a"),
    ("return redis.pcall('get', 'x', 'y')", &[], &[], true, b"-ERR Wrong number of args calling Redis command from script\x0d\x0a"),
    ("return _G._G == _G", &[], &[], false, b":1\x0d\x0a"),
    ("return _G._G == _G", &[], &[], true, b":1\x0d\x0a"),
    ("return getfenv(0) == _G", &[], &[], false, b"-ERR user_script:1: Script attempted to access nonexistent global variable 'getfenv' script: d1163fc9cbdbbb464ae54a152abcdc27e60c82d1, on @user_script:1.\x0d\x0a"),
    ("return getfenv(0) == _G", &[], &[], true, b"-ERR user_script:1: Script attempted to access nonexistent global variable 'getfenv' script: d1163fc9cbdbbb464ae54a152abcdc27e60c82d1, on @user_script:1.\x0d\x0a"),
    ("return setfenv", &[], &[], false, b"-ERR user_script:1: Script attempted to access nonexistent global variable 'setfenv' script: 3ffeb955c6323bb75eb872e0e1bc7214ea8780d9, on @user_script:1.\x0d\x0a"),
    ("return setfenv", &[], &[], true, b"-ERR user_script:1: Script attempted to access nonexistent global variable 'setfenv' script: 3ffeb955c6323bb75eb872e0e1bc7214ea8780d9, on @user_script:1.\x0d\x0a"),
    ("return newproxy", &[], &[], false, b"-ERR user_script:1: Script attempted to access nonexistent global variable 'newproxy' script: f77b925834a6a5cd4c3f954d604c77e44181c40f, on @user_script:1.\x0d\x0a"),
    ("return newproxy", &[], &[], true, b"-ERR user_script:1: Script attempted to access nonexistent global variable 'newproxy' script: f77b925834a6a5cd4c3f954d604c77e44181c40f, on @user_script:1.\x0d\x0a"),
    ("return getmetatable('').__index == string", &[], &[], false, b":1\x0d\x0a"),
    ("return getmetatable('').__index == string", &[], &[], true, b":1\x0d\x0a"),
    ("return tostring(#KEYS)", &[], &[], false, b"$1\x0d\x0a0\x0d\x0a"),
    ("return tostring(#KEYS)", &[], &[], true, b"$1\x0d\x0a0\x0d\x0a"),
    ("return coroutine.wrap(function() coroutine.yield(5) end)()", &[], &[], false, b":5\x0d\x0a"),
    ("return coroutine.wrap(function() coroutine.yield(5) end)()", &[], &[], true, b":5\x0d\x0a"),
    ("local t = setmetatable({}, {__index=function() return 7 end}) return t.x", &[], &[], false, b":7\x0d\x0a"),
    ("local t = setmetatable({}, {__index=function() return 7 end}) return t.x", &[], &[], true, b":7\x0d\x0a"),
    ("return next(redis) ~= nil", &[], &[], false, b":1\x0d\x0a"),
    ("return next(redis) ~= nil", &[], &[], true, b":1\x0d\x0a"),
    ("return rawget(redis, 'call') ~= nil", &[], &[], false, b":1\x0d\x0a"),
    ("return rawget(redis, 'call') ~= nil", &[], &[], true, b":1\x0d\x0a"),
    ("return redis.acl_check_cmd('get','x')", &[], &[], false, b":1\x0d\x0a"),
    ("return redis.acl_check_cmd('get','x')", &[], &[], true, b":1\x0d\x0a"),
    ("return redis.acl_check_cmd('nosuch')", &[], &[], false, b"-ERR Invalid command passed to redis.acl_check_cmd() script: d2491587bab5149c93be0dce4426f7a06ba9e1a1, on @user_script:1.\x0d\x0a"),
    ("return redis.acl_check_cmd('nosuch')", &[], &[], true, b"-ERR Invalid command passed to redis.acl_check_cmd() script: d2491587bab5149c93be0dce4426f7a06ba9e1a1, on @user_script:1.\x0d\x0a"),
    ("local t = {} for k,v in pairs(_G) do t[#t+1] = k end table.sort(t) return t", &[], &[], false, b"*35\x0d\x0a$4\x0d\x0aARGV\x0d\x0a$4\x0d\x0aKEYS\x0d\x0a$2\x0d\x0a_G\x0d\x0a$8\x0d\x0a_VERSION\x0d\x0a$21\x0d\x0a__redis__err__handler\x0d\x0a$6\x0d\x0aassert\x0d\x0a$3\x0d\x0abit\x0d\x0a$5\x0d\x0acjson\x0d\x0a$8\x0d\x0acmsgpack\x0d\x0a$14\x0d\x0acollectgarbage\x0d\x0a$9\x0d\x0acoroutine\x0d\x0a$5\x0d\x0aerror\x0d\x0a$6\x0d\x0agcinfo\x0d\x0a$12\x0d\x0agetmetatable\x0d\x0a$6\x0d\x0aipairs\x0d\x0a$4\x0d\x0aload\x0d\x0a$10\x0d\x0aloadstring\x0d\x0a$4\x0d\x0amath\x0d\x0a$4\x0d\x0anext\x0d\x0a$5\x0d\x0apairs\x0d\x0a$5\x0d\x0apcall\x0d\x0a$8\x0d\x0arawequal\x0d\x0a$6\x0d\x0arawget\x0d\x0a$6\x0d\x0arawset\x0d\x0a$5\x0d\x0aredis\x0d\x0a$6\x0d\x0aselect\x0d\x0a$12\x0d\x0asetmetatable\x0d\x0a$6\x0d\x0astring\x0d\x0a$6\x0d\x0astruct\x0d\x0a$5\x0d\x0atable\x0d\x0a$8\x0d\x0atonumber\x0d\x0a$8\x0d\x0atostring\x0d\x0a$4\x0d\x0atype\x0d\x0a$6\x0d\x0aunpack\x0d\x0a$6\x0d\x0axpcall\x0d\x0a"),
    ("local t = {} for k,v in pairs(redis) do t[#t+1] = k end table.sort(t) return t", &[], &[], false, b"*23\x0d\x0a$9\x0d\x0aLOG_DEBUG\x0d\x0a$10\x0d\x0aLOG_NOTICE\x0d\x0a$11\x0d\x0aLOG_VERBOSE\x0d\x0a$11\x0d\x0aLOG_WARNING\x0d\x0a$13\x0d\x0aREDIS_VERSION\x0d\x0a$17\x0d\x0aREDIS_VERSION_NUM\x0d\x0a$8\x0d\x0aREPL_ALL\x0d\x0a$8\x0d\x0aREPL_AOF\x0d\x0a$9\x0d\x0aREPL_NONE\x0d\x0a$12\x0d\x0aREPL_REPLICA\x0d\x0a$10\x0d\x0aREPL_SLAVE\x0d\x0a$13\x0d\x0aacl_check_cmd\x0d\x0a$10\x0d\x0abreakpoint\x0d\x0a$4\x0d\x0acall\x0d\x0a$5\x0d\x0adebug\x0d\x0a$11\x0d\x0aerror_reply\x0d\x0a$3\x0d\x0alog\x0d\x0a$5\x0d\x0apcall\x0d\x0a$18\x0d\x0areplicate_commands\x0d\x0a$8\x0d\x0aset_repl\x0d\x0a$7\x0d\x0asetresp\x0d\x0a$7\x0d\x0asha1hex\x0d\x0a$12\x0d\x0astatus_reply\x0d\x0a"),
    ("local t = {} for k,v in pairs(string) do t[#t+1] = k end table.sort(t) return t", &[], &[], false, b"*15\x0d\x0a$4\x0d\x0abyte\x0d\x0a$4\x0d\x0achar\x0d\x0a$4\x0d\x0adump\x0d\x0a$4\x0d\x0afind\x0d\x0a$6\x0d\x0aformat\x0d\x0a$5\x0d\x0agfind\x0d\x0a$6\x0d\x0agmatch\x0d\x0a$4\x0d\x0agsub\x0d\x0a$3\x0d\x0alen\x0d\x0a$5\x0d\x0alower\x0d\x0a$5\x0d\x0amatch\x0d\x0a$3\x0d\x0arep\x0d\x0a$7\x0d\x0areverse\x0d\x0a$3\x0d\x0asub\x0d\x0a$5\x0d\x0aupper\x0d\x0a"),
    ("local t = {} for k,v in pairs(math) do t[#t+1] = k end table.sort(t) return t", &[], &[], false, b"*31\x0d\x0a$3\x0d\x0aabs\x0d\x0a$4\x0d\x0aacos\x0d\x0a$4\x0d\x0aasin\x0d\x0a$4\x0d\x0aatan\x0d\x0a$5\x0d\x0aatan2\x0d\x0a$4\x0d\x0aceil\x0d\x0a$3\x0d\x0acos\x0d\x0a$4\x0d\x0acosh\x0d\x0a$3\x0d\x0adeg\x0d\x0a$3\x0d\x0aexp\x0d\x0a$5\x0d\x0afloor\x0d\x0a$4\x0d\x0afmod\x0d\x0a$5\x0d\x0afrexp\x0d\x0a$4\x0d\x0ahuge\x0d\x0a$5\x0d\x0aldexp\x0d\x0a$3\x0d\x0alog\x0d\x0a$5\x0d\x0alog10\x0d\x0a$3\x0d\x0amax\x0d\x0a$3\x0d\x0amin\x0d\x0a$3\x0d\x0amod\x0d\x0a$4\x0d\x0amodf\x0d\x0a$2\x0d\x0api\x0d\x0a$3\x0d\x0apow\x0d\x0a$3\x0d\x0arad\x0d\x0a$6\x0d\x0arandom\x0d\x0a$10\x0d\x0arandomseed\x0d\x0a$3\x0d\x0asin\x0d\x0a$4\x0d\x0asinh\x0d\x0a$4\x0d\x0asqrt\x0d\x0a$3\x0d\x0atan\x0d\x0a$4\x0d\x0atanh\x0d\x0a"),
    ("local t = {} for k,v in pairs(table) do t[#t+1] = k end table.sort(t) return t", &[], &[], false, b"*9\x0d\x0a$6\x0d\x0aconcat\x0d\x0a$7\x0d\x0aforeach\x0d\x0a$8\x0d\x0aforeachi\x0d\x0a$4\x0d\x0agetn\x0d\x0a$6\x0d\x0ainsert\x0d\x0a$4\x0d\x0amaxn\x0d\x0a$6\x0d\x0aremove\x0d\x0a$4\x0d\x0asetn\x0d\x0a$4\x0d\x0asort\x0d\x0a"),
    ("local t = {} for k,v in pairs(coroutine) do t[#t+1] = k end table.sort(t) return t", &[], &[], false, b"*6\x0d\x0a$6\x0d\x0acreate\x0d\x0a$6\x0d\x0aresume\x0d\x0a$7\x0d\x0arunning\x0d\x0a$6\x0d\x0astatus\x0d\x0a$4\x0d\x0awrap\x0d\x0a$5\x0d\x0ayield\x0d\x0a"),
    ("return cjson.encode({1,2,3,'a'})", &[], &[], false, b"$11\x0d\x0a[1,2,3,\x22a\x22]\x0d\x0a"),
    ("return cjson.encode({1,2,3,'a'})", &[], &[], true, b"$11\x0d\x0a[1,2,3,\x22a\x22]\x0d\x0a"),
    ("return cjson.encode({a=1})", &[], &[], false, b"$7\x0d\x0a{\x22a\x22:1}\x0d\x0a"),
    ("return cjson.encode({a=1})", &[], &[], true, b"$7\x0d\x0a{\x22a\x22:1}\x0d\x0a"),
    ("return cjson.encode('a/b\"c\\\\\\n\\1\\127')", &[], &[], false, b"$25\x0d\x0a\x22a\x5c/b\x5c\x22c\x5c\x5c\x5cn\x5cu0001\x5cu007f\x22\x0d\x0a"),
    ("return cjson.encode('a/b\"c\\\\\\n\\1\\127')", &[], &[], true, b"$25\x0d\x0a\x22a\x5c/b\x5c\x22c\x5c\x5c\x5cn\x5cu0001\x5cu007f\x22\x0d\x0a"),
    ("return cjson.encode(0.1)", &[], &[], false, b"$3\x0d\x0a0.1\x0d\x0a"),
    ("return cjson.encode(0.1)", &[], &[], true, b"$3\x0d\x0a0.1\x0d\x0a"),
    ("return cjson.encode(1e300)", &[], &[], false, b"$6\x0d\x0a1e+300\x0d\x0a"),
    ("return cjson.encode(1e300)", &[], &[], true, b"$6\x0d\x0a1e+300\x0d\x0a"),
    ("return cjson.encode(-0.0)", &[], &[], false, b"$2\x0d\x0a-0\x0d\x0a"),
    ("return cjson.encode(-0.0)", &[], &[], true, b"$2\x0d\x0a-0\x0d\x0a"),
    ("return cjson.encode(123456789012345)", &[], &[], false, b"$19\x0d\x0a1.2345678901234e+14\x0d\x0a"),
    ("return cjson.encode(123456789012345)", &[], &[], true, b"$19\x0d\x0a1.2345678901234e+14\x0d\x0a"),
    ("return cjson.encode(3.14159265358979)", &[], &[], false, b"$15\x0d\x0a3.1415926535898\x0d\x0a"),
    ("return cjson.encode(3.14159265358979)", &[], &[], true, b"$15\x0d\x0a3.1415926535898\x0d\x0a"),
    ("return cjson.encode({[1]=1,[3]=3})", &[], &[], false, b"$10\x0d\x0a[1,null,3]\x0d\x0a"),
    ("return cjson.encode({[1]=1,[3]=3})", &[], &[], true, b"$10\x0d\x0a[1,null,3]\x0d\x0a"),
    ("return cjson.encode({[1]=1,[30]=3})", &[], &[], false, b"-ERR user_script:1: Cannot serialise table: excessively sparse array script: 192b3af9fff8485280fdaa0d9aacd2968bccc465, on @user_script:1.\x0d\x0a"),
    ("return cjson.encode({[1]=1,[30]=3})", &[], &[], true, b"-ERR user_script:1: Cannot serialise table: excessively sparse array script: 192b3af9fff8485280fdaa0d9aacd2968bccc465, on @user_script:1.\x0d\x0a"),
    ("return cjson.encode(0/0)", &[], &[], false, b"-ERR user_script:1: Cannot serialise number: must not be NaN or Inf script: d3f8d4e745d6587b04e9dd216e0d4631f0a306d9, on @user_script:1.\x0d\x0a"),
    ("return cjson.encode(0/0)", &[], &[], true, b"-ERR user_script:1: Cannot serialise number: must not be NaN or Inf script: d3f8d4e745d6587b04e9dd216e0d4631f0a306d9, on @user_script:1.\x0d\x0a"),
    ("return cjson.encode(1/0)", &[], &[], false, b"-ERR user_script:1: Cannot serialise number: must not be NaN or Inf script: 08ffdaa5e7f117332da21c3b5222c2ede9492c60, on @user_script:1.\x0d\x0a"),
    ("return cjson.encode(1/0)", &[], &[], true, b"-ERR user_script:1: Cannot serialise number: must not be NaN or Inf script: 08ffdaa5e7f117332da21c3b5222c2ede9492c60, on @user_script:1.\x0d\x0a"),
    ("return cjson.encode(function() end)", &[], &[], false, b"-ERR user_script:1: Cannot serialise function: type not supported script: c6600573aa08cdf0af5da6e0ef682db69a3acc00, on @user_script:1.\x0d\x0a"),
    ("return cjson.encode(function() end)", &[], &[], true, b"-ERR user_script:1: Cannot serialise function: type not supported script: c6600573aa08cdf0af5da6e0ef682db69a3acc00, on @user_script:1.\x0d\x0a"),
    ("return cjson.encode()", &[], &[], false, b"-ERR user_script:1: bad argument #1 to 'encode' (expected 1 argument) script: fc593ea31f478c7ed65c77495cc63edeb9153530, on @user_script:1.\x0d\x0a"),
    ("return cjson.encode()", &[], &[], true, b"-ERR user_script:1: bad argument #1 to 'encode' (expected 1 argument) script: fc593ea31f478c7ed65c77495cc63edeb9153530, on @user_script:1.\x0d\x0a"),
    ("return cjson.encode(cjson.null)", &[], &[], false, b"$4\x0d\x0anull\x0d\x0a"),
    ("return cjson.encode(cjson.null)", &[], &[], true, b"$4\x0d\x0anull\x0d\x0a"),
    ("return cjson.encode({})", &[], &[], false, b"$2\x0d\x0a{}\x0d\x0a"),
    ("return cjson.encode({})", &[], &[], true, b"$2\x0d\x0a{}\x0d\x0a"),
    ("return cjson.encode(true)", &[], &[], false, b"$4\x0d\x0atrue\x0d\x0a"),
    ("return cjson.encode(true)", &[], &[], true, b"$4\x0d\x0atrue\x0d\x0a"),
    ("return cjson.encode({[true]=1})", &[], &[], false, b"-ERR user_script:1: Cannot serialise boolean: table key must be a number or string script: 376a640005c8509c694166527ca834359bf69aa8, on @user_script:1.\x0d\x0a"),
    ("return cjson.encode({[true]=1})", &[], &[], true, b"-ERR user_script:1: Cannot serialise boolean: table key must be a number or string script: 376a640005c8509c694166527ca834359bf69aa8, on @user_script:1.\x0d\x0a"),
    ("local t = {} t[1] = t return cjson.encode(t)", &[], &[], false, b"-ERR user_script:1: Cannot serialise, excessive nesting (1001) script: 576653f0096d47f87063058b9abe9085cdcd4f41, on @user_script:1.\x0d\x0a"),
    ("local t = {} t[1] = t return cjson.encode(t)", &[], &[], true, b"-ERR user_script:1: Cannot serialise, excessive nesting (1001) script: 576653f0096d47f87063058b9abe9085cdcd4f41, on @user_script:1.\x0d\x0a"),
    ("return cjson.encode({a={b={c={1}}}})", &[], &[], false, b"$21\x0d\x0a{\x22a\x22:{\x22b\x22:{\x22c\x22:[1]}}}\x0d\x0a"),
    ("return cjson.encode({a={b={c={1}}}})", &[], &[], true, b"$21\x0d\x0a{\x22a\x22:{\x22b\x22:{\x22c\x22:[1]}}}\x0d\x0a"),
    ("return cjson.decode('[1,2,3,\"a\"]')", &[], &[], false, b"*4\x0d\x0a:1\x0d\x0a:2\x0d\x0a:3\x0d\x0a$1\x0d\x0aa\x0d\x0a"),
    ("return cjson.decode('[1,2,3,\"a\"]')", &[], &[], true, b"*4\x0d\x0a:1\x0d\x0a:2\x0d\x0a:3\x0d\x0a$1\x0d\x0aa\x0d\x0a"),
    ("return cjson.decode('{\"a\":[1,{\"b\":2}]}').a[2].b", &[], &[], false, b":2\x0d\x0a"),
    ("return cjson.decode('{\"a\":[1,{\"b\":2}]}').a[2].b", &[], &[], true, b":2\x0d\x0a"),
    ("return cjson.decode('\"\\\\u00e9\\\\ud83d\\\\ude00\"')", &[], &[], false, b"$6\x0d\x0a\xc3\xa9\xf0\x9f\x98\x80\x0d\x0a"),
    ("return cjson.decode('\"\\\\u00e9\\\\ud83d\\\\ude00\"')", &[], &[], true, b"$6\x0d\x0a\xc3\xa9\xf0\x9f\x98\x80\x0d\x0a"),
    ("return type(cjson.decode('null'))", &[], &[], false, b"$8\x0d\x0auserdata\x0d\x0a"),
    ("return type(cjson.decode('null'))", &[], &[], true, b"$8\x0d\x0auserdata\x0d\x0a"),
    ("return cjson.decode('null') == cjson.null", &[], &[], false, b":1\x0d\x0a"),
    ("return cjson.decode('null') == cjson.null", &[], &[], true, b":1\x0d\x0a"),
    ("return cjson.decode('[1,2')", &[], &[], false, b"-ERR user_script:1: Expected comma or array end but found T_END at character 5 script: c107001b5ba2ff860ee2557f64da37c4767ef4bd, on @user_script:1.\x0d\x0a"),
    ("return cjson.decode('[1,2')", &[], &[], true, b"-ERR user_script:1: Expected comma or array end but found T_END at character 5 script: c107001b5ba2ff860ee2557f64da37c4767ef4bd, on @user_script:1.\x0d\x0a"),
    ("return cjson.decode('{\"a\" 1}')", &[], &[], false, b"-ERR user_script:1: Expected colon but found T_NUMBER at character 6 script: 3486ee24bfdfc100c738c73355e99954ef01d92f, on @user_script:1.\x0d\x0a"),
    ("return cjson.decode('{\"a\" 1}')", &[], &[], true, b"-ERR user_script:1: Expected colon but found T_NUMBER at character 6 script: 3486ee24bfdfc100c738c73355e99954ef01d92f, on @user_script:1.\x0d\x0a"),
    ("return cjson.decode('tru')", &[], &[], false, b"-ERR user_script:1: Expected value but found invalid token at character 1 script: b0ae6f0426d6ff93bdff3364f547baa19aa4171b, on @user_script:1.\x0d\x0a"),
    ("return cjson.decode('tru')", &[], &[], true, b"-ERR user_script:1: Expected value but found invalid token at character 1 script: b0ae6f0426d6ff93bdff3364f547baa19aa4171b, on @user_script:1.\x0d\x0a"),
    ("return cjson.decode('\"abc')", &[], &[], false, b"-ERR user_script:1: Expected value but found unexpected end of string at character 5 script: 30d67c6fb8e066eef4796bfcc59cee500c381744, on @user_script:1.\x0d\x0a"),
    ("return cjson.decode('\"abc')", &[], &[], true, b"-ERR user_script:1: Expected value but found unexpected end of string at character 5 script: 30d67c6fb8e066eef4796bfcc59cee500c381744, on @user_script:1.\x0d\x0a"),
    ("return cjson.decode('\"\\\\x\"')", &[], &[], false, b"-ERR user_script:1: Expected value but found invalid escape code at character 2 script: e15fa517a0e30bc5ba472a9403d98fe6c88ca8e5, on @user_script:1.\x0d\x0a"),
    ("return cjson.decode('\"\\\\x\"')", &[], &[], true, b"-ERR user_script:1: Expected value but found invalid escape code at character 2 script: e15fa517a0e30bc5ba472a9403d98fe6c88ca8e5, on @user_script:1.\x0d\x0a"),
    ("return cjson.decode('1 2')", &[], &[], false, b"-ERR user_script:1: Expected the end but found T_NUMBER at character 3 script: 1408d9a9f8459030a4a353692b905ad7a0ddb424, on @user_script:1.\x0d\x0a"),
    ("return cjson.decode('1 2')", &[], &[], true, b"-ERR user_script:1: Expected the end but found T_NUMBER at character 3 script: 1408d9a9f8459030a4a353692b905ad7a0ddb424, on @user_script:1.\x0d\x0a"),
    ("return cjson.decode('')", &[], &[], false, b"-ERR user_script:1: Expected value but found T_END at character 1 script: 7ff8cf86abed928f4d61a01dcc9713f0117b180a, on @user_script:1.\x0d\x0a"),
    ("return cjson.decode('')", &[], &[], true, b"-ERR user_script:1: Expected value but found T_END at character 1 script: 7ff8cf86abed928f4d61a01dcc9713f0117b180a, on @user_script:1.\x0d\x0a"),
    ("return cjson.decode('0x10')", &[], &[], false, b":16\x0d\x0a"),
    ("return cjson.decode('0x10')", &[], &[], true, b":16\x0d\x0a"),
    ("return cjson.decode('-1.5e3')", &[], &[], false, b":-1500\x0d\x0a"),
    ("return cjson.decode('-1.5e3')", &[], &[], true, b":-1500\x0d\x0a"),
    ("return tostring(cjson.decode('1e400'))", &[], &[], false, b"$3\x0d\x0ainf\x0d\x0a"),
    ("return tostring(cjson.decode('1e400'))", &[], &[], true, b"$3\x0d\x0ainf\x0d\x0a"),
    ("return cjson.decode(string.rep('[', 1100))", &[], &[], false, b"-ERR user_script:1: Found too many nested data structures (1001) at character 1001 script: 28c4cc97cbb5af70c2db36203e3197f95c8f243b, on @user_script:1.\x0d\x0a"),
    ("return cjson.decode(string.rep('[', 1100))", &[], &[], true, b"-ERR user_script:1: Found too many nested data structures (1001) at character 1001 script: 28c4cc97cbb5af70c2db36203e3197f95c8f243b, on @user_script:1.\x0d\x0a"),
    ("return cjson.decode('{1:2}')", &[], &[], false, b"-ERR user_script:1: Expected object key string but found T_NUMBER at character 2 script: b7dfc51e0d5bf164c246fe708a2e33743e899be6, on @user_script:1.\x0d\x0a"),
    ("return cjson.decode('{1:2}')", &[], &[], true, b"-ERR user_script:1: Expected object key string but found T_NUMBER at character 2 script: b7dfc51e0d5bf164c246fe708a2e33743e899be6, on @user_script:1.\x0d\x0a"),
    ("return cjson.decode('[\"\\\\ud800\"]')", &[], &[], false, b"-ERR user_script:1: Expected value but found invalid unicode escape code at character 3 script: eb83d6ae5050efd9a2de58eace6062416d0ff73c, on @user_script:1.\x0d\x0a"),
    ("return cjson.decode('[\"\\\\ud800\"]')", &[], &[], true, b"-ERR user_script:1: Expected value but found invalid unicode escape code at character 3 script: eb83d6ae5050efd9a2de58eace6062416d0ff73c, on @user_script:1.\x0d\x0a"),
    ("return {cjson.encode_max_depth(), cjson.decode_max_depth(), cjson.encode_number_precision()}", &[], &[], false, b"*3\x0d\x0a:1000\x0d\x0a:1000\x0d\x0a:14\x0d\x0a"),
    ("return {cjson.encode_max_depth(), cjson.decode_max_depth(), cjson.encode_number_precision()}", &[], &[], true, b"*3\x0d\x0a:1000\x0d\x0a:1000\x0d\x0a:14\x0d\x0a"),
    ("return cjson.encode_keep_buffer()", &[], &[], false, b":1\x0d\x0a"),
    ("return cjson.encode_keep_buffer()", &[], &[], true, b":1\x0d\x0a"),
    ("return cjson.encode_invalid_numbers()", &[], &[], false, b"$-1\x0d\x0a"),
    ("return cjson.encode_invalid_numbers()", &[], &[], true, b"_\x0d\x0a"),
    ("return {cjson.encode_sparse_array()}", &[], &[], false, b"*3\x0d\x0a$-1\x0d\x0a:2\x0d\x0a:10\x0d\x0a"),
    ("return {cjson.encode_sparse_array()}", &[], &[], true, b"*3\x0d\x0a_\x0d\x0a:2\x0d\x0a:10\x0d\x0a"),
    ("return cjson._NAME .. ' ' .. cjson._VERSION", &[], &[], false, b"$11\x0d\x0acjson 2.1.0\x0d\x0a"),
    ("return cjson._NAME .. ' ' .. cjson._VERSION", &[], &[], true, b"$11\x0d\x0acjson 2.1.0\x0d\x0a"),
    ("return cjson.encode({1, cjson.null, 3})", &[], &[], false, b"$10\x0d\x0a[1,null,3]\x0d\x0a"),
    ("return cjson.encode({1, cjson.null, 3})", &[], &[], true, b"$10\x0d\x0a[1,null,3]\x0d\x0a"),
    ("return cjson.decode('[1,null,3]')[3]", &[], &[], false, b":3\x0d\x0a"),
    ("return cjson.decode('[1,null,3]')[3]", &[], &[], true, b":3\x0d\x0a"),
    ("return struct.pack('>I2', 258)", &[], &[], false, b"$2\x0d\x0a\x01\x02\x0d\x0a"),
    ("return struct.pack('>I2', 258)", &[], &[], true, b"$2\x0d\x0a\x01\x02\x0d\x0a"),
    ("return {struct.unpack('>I2', struct.pack('>I2', 258))}", &[], &[], false, b"*2\x0d\x0a:258\x0d\x0a:3\x0d\x0a"),
    ("return {struct.unpack('>I2', struct.pack('>I2', 258))}", &[], &[], true, b"*2\x0d\x0a:258\x0d\x0a:3\x0d\x0a"),
    ("return struct.pack('<i', -2)", &[], &[], false, b"$4\x0d\x0a\xfe\xff\xff\xff\x0d\x0a"),
    ("return struct.pack('<i', -2)", &[], &[], true, b"$4\x0d\x0a\xfe\xff\xff\xff\x0d\x0a"),
    ("return struct.size('!4 b i')", &[], &[], false, b":8\x0d\x0a"),
    ("return struct.size('!4 b i')", &[], &[], true, b":8\x0d\x0a"),
    ("return struct.pack('bhid', 1, 2, 3, 4.5)", &[], &[], false, b"$15\x0d\x0a\x01\x02\x00\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00\x12@\x0d\x0a"),
    ("return struct.pack('bhid', 1, 2, 3, 4.5)", &[], &[], true, b"$15\x0d\x0a\x01\x02\x00\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00\x12@\x0d\x0a"),
    ("return {struct.unpack('s', 'abc\\0def')}", &[], &[], false, b"*2\x0d\x0a$3\x0d\x0aabc\x0d\x0a:5\x0d\x0a"),
    ("return {struct.unpack('s', 'abc\\0def')}", &[], &[], true, b"*2\x0d\x0a$3\x0d\x0aabc\x0d\x0a:5\x0d\x0a"),
    ("return struct.pack('c3', 'ab')", &[], &[], false, b"-ERR user_script:1: bad argument #3 to 'pack' (string too short) script: 01dc5ae2857747fc1262e064540dfbc33d3ccf21, on @user_script:1.\x0d\x0a"),
    ("return struct.pack('c3', 'ab')", &[], &[], true, b"-ERR user_script:1: bad argument #3 to 'pack' (string too short) script: 01dc5ae2857747fc1262e064540dfbc33d3ccf21, on @user_script:1.\x0d\x0a"),
    ("return struct.pack('z', 1)", &[], &[], false, b"-ERR user_script:1: bad argument #1 to 'pack' (invalid format option 'z') script: b1a49a62278d772f47cfca6a679bc33c0fa64430, on @user_script:1.\x0d\x0a"),
    ("return struct.pack('z', 1)", &[], &[], true, b"-ERR user_script:1: bad argument #1 to 'pack' (invalid format option 'z') script: b1a49a62278d772f47cfca6a679bc33c0fa64430, on @user_script:1.\x0d\x0a"),
    ("return struct.size('s')", &[], &[], false, b"-ERR user_script:1: bad argument #1 to 'size' (option 's' has no fixed size) script: a2a0525826ab7939ccd3f54427a862205642f28f, on @user_script:1.\x0d\x0a"),
    ("return struct.size('s')", &[], &[], true, b"-ERR user_script:1: bad argument #1 to 'size' (option 's' has no fixed size) script: a2a0525826ab7939ccd3f54427a862205642f28f, on @user_script:1.\x0d\x0a"),
    ("return {struct.unpack('>d', struct.pack('>d', 1.5))}", &[], &[], false, b"*2\x0d\x0a:1\x0d\x0a:9\x0d\x0a"),
    ("return {struct.unpack('>d', struct.pack('>d', 1.5))}", &[], &[], true, b"*2\x0d\x0a:1\x0d\x0a:9\x0d\x0a"),
    ("return struct.unpack('i', 'ab')", &[], &[], false, b"-ERR user_script:1: bad argument #2 to 'unpack' (data string too short) script: e930e4fb36d046f0e264ac634fbe097e3f8b897d, on @user_script:1.\x0d\x0a"),
    ("return struct.unpack('i', 'ab')", &[], &[], true, b"-ERR user_script:1: bad argument #2 to 'unpack' (data string too short) script: e930e4fb36d046f0e264ac634fbe097e3f8b897d, on @user_script:1.\x0d\x0a"),
    ("return {struct.unpack('b', 'x', 2)}", &[], &[], false, b"-ERR user_script:1: bad argument #2 to 'unpack' (data string too short) script: 8c114d00fca3e0e77414e60e049f15a3ebdac5d2, on @user_script:1.\x0d\x0a"),
    ("return {struct.unpack('b', 'x', 2)}", &[], &[], true, b"-ERR user_script:1: bad argument #2 to 'unpack' (data string too short) script: 8c114d00fca3e0e77414e60e049f15a3ebdac5d2, on @user_script:1.\x0d\x0a"),
    ("return struct.unpack('I', 'abcd', 0)", &[], &[], false, b"-ERR user_script:1: bad argument #3 to 'unpack' (offset must be 1 or greater) script: 23a9207ea6d1f95c6523459094fcfe61a5978a6e, on @user_script:1.\x0d\x0a"),
    ("return struct.unpack('I', 'abcd', 0)", &[], &[], true, b"-ERR user_script:1: bad argument #3 to 'unpack' (offset must be 1 or greater) script: 23a9207ea6d1f95c6523459094fcfe61a5978a6e, on @user_script:1.\x0d\x0a"),
    ("return struct.pack('i40', 1)", &[], &[], false, b"-ERR user_script:1: integral size 40 is larger than limit of 32 script: 652cabace7a9fdbd8e0c2489b1b804d19185ddc8, on @user_script:1.\x0d\x0a"),
    ("return struct.pack('i40', 1)", &[], &[], true, b"-ERR user_script:1: integral size 40 is larger than limit of 32 script: 652cabace7a9fdbd8e0c2489b1b804d19185ddc8, on @user_script:1.\x0d\x0a"),
    ("return struct.pack('!3i', 1)", &[], &[], false, b"-ERR user_script:1: alignment 3 is not a power of 2 script: 9c4f4d70ace09806881a064330127afb155d9415, on @user_script:1.\x0d\x0a"),
    ("return struct.pack('!3i', 1)", &[], &[], true, b"-ERR user_script:1: alignment 3 is not a power of 2 script: 9c4f4d70ace09806881a064330127afb155d9415, on @user_script:1.\x0d\x0a"),
    ("return {struct.unpack('B c0', '\\3abcd')}", &[], &[], false, b"*2\x0d\x0a$3\x0d\x0aabc\x0d\x0a:5\x0d\x0a"),
    ("return {struct.unpack('B c0', '\\3abcd')}", &[], &[], true, b"*2\x0d\x0a$3\x0d\x0aabc\x0d\x0a:5\x0d\x0a"),
    ("return cmsgpack.pack({1,2,3})", &[], &[], false, b"$4\x0d\x0a\x93\x01\x02\x03\x0d\x0a"),
    ("return cmsgpack.pack({1,2,3})", &[], &[], true, b"$4\x0d\x0a\x93\x01\x02\x03\x0d\x0a"),
    ("return cmsgpack.pack({a=1})", &[], &[], false, b"$4\x0d\x0a\x81\xa1a\x01\x0d\x0a"),
    ("return cmsgpack.pack({a=1})", &[], &[], true, b"$4\x0d\x0a\x81\xa1a\x01\x0d\x0a"),
    ("return cmsgpack.pack(1, -1, 200, -200, 70000, -70000, 5000000000, -5000000000, 1.5, 0.1, 'x', true, false, nil)", &[], &[], false, b"$54\x0d\x0a\x01\xff\xcc\xc8\xd1\xff8\xce\x00\x01\x11p\xd2\xff\xfe\xee\x90\xcf\x00\x00\x00\x01*\x05\xf2\x00\xd3\xff\xff\xff\xfe\xd5\xfa\x0e\x00\xca?\xc0\x00\x00\xcb?\xb9\x99\x99\x99\x99\x99\x9a\xa1x\xc3\xc2\xc0\x0d\x0a"),
    ("return cmsgpack.pack(1, -1, 200, -200, 70000, -70000, 5000000000, -5000000000, 1.5, 0.1, 'x', true, false, nil)", &[], &[], true, b"$54\x0d\x0a\x01\xff\xcc\xc8\xd1\xff8\xce\x00\x01\x11p\xd2\xff\xfe\xee\x90\xcf\x00\x00\x00\x01*\x05\xf2\x00\xd3\xff\xff\xff\xfe\xd5\xfa\x0e\x00\xca?\xc0\x00\x00\xcb?\xb9\x99\x99\x99\x99\x99\x9a\xa1x\xc3\xc2\xc0\x0d\x0a"),
    ("return cmsgpack.pack(string.rep('x', 40))", &[], &[], false, b"$42\x0d\x0a\xd9(xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\x0d\x0a"),
    ("return cmsgpack.pack(string.rep('x', 40))", &[], &[], true, b"$42\x0d\x0a\xd9(xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\x0d\x0a"),
    ("return cmsgpack.pack(string.rep('x', 300))", &[], &[], false, b"$303\x0d\x0a\xda\x01,xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\x0d\x0a"),
    ("return cmsgpack.pack(string.rep('x', 300))", &[], &[], true, b"$303\x0d\x0a\xda\x01,xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\x0d\x0a"),
    ("local t = {} for i=1,20 do t[i]=i end return cmsgpack.pack(t)", &[], &[], false, b"$23\x0d\x0a\xdc\x00\x14\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x0d\x0a"),
    ("local t = {} for i=1,20 do t[i]=i end return cmsgpack.pack(t)", &[], &[], true, b"$23\x0d\x0a\xdc\x00\x14\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x0d\x0a"),
    ("return {cmsgpack.unpack(cmsgpack.pack(1, 'a', {1, 2}, {x=1}))}", &[], &[], false, b"*4\x0d\x0a:1\x0d\x0a$1\x0d\x0aa\x0d\x0a*2\x0d\x0a:1\x0d\x0a:2\x0d\x0a*0\x0d\x0a"),
    ("return {cmsgpack.unpack(cmsgpack.pack(1, 'a', {1, 2}, {x=1}))}", &[], &[], true, b"*4\x0d\x0a:1\x0d\x0a$1\x0d\x0aa\x0d\x0a*2\x0d\x0a:1\x0d\x0a:2\x0d\x0a*0\x0d\x0a"),
    ("return cmsgpack.unpack(cmsgpack.pack({x=1})).x", &[], &[], false, b":1\x0d\x0a"),
    ("return cmsgpack.unpack(cmsgpack.pack({x=1})).x", &[], &[], true, b":1\x0d\x0a"),
    ("return cmsgpack.unpack('\\193')", &[], &[], false, b"-ERR user_script:1: Bad data format in input. script: dc135bd7bc2955014f03280e151acf74360378e7, on @user_script:1.\x0d\x0a"),
    ("return cmsgpack.unpack('\\193')", &[], &[], true, b"-ERR user_script:1: Bad data format in input. script: dc135bd7bc2955014f03280e151acf74360378e7, on @user_script:1.\x0d\x0a"),
    ("return cmsgpack.unpack('\\205\\1')", &[], &[], false, b"-ERR user_script:1: Missing bytes in input. script: 4679240a23ff9735759d614fd4b677cab6fb1b9a, on @user_script:1.\x0d\x0a"),
    ("return cmsgpack.unpack('\\205\\1')", &[], &[], true, b"-ERR user_script:1: Missing bytes in input. script: 4679240a23ff9735759d614fd4b677cab6fb1b9a, on @user_script:1.\x0d\x0a"),
    ("return cmsgpack.pack()", &[], &[], false, b"-ERR user_script:1: bad argument #0 to 'pack' (MessagePack pack needs input.) script: 6bc235afa55de88253e203cc5fe5844792e25209, on @user_script:1.\x0d\x0a"),
    ("return cmsgpack.pack()", &[], &[], true, b"-ERR user_script:1: bad argument #0 to 'pack' (MessagePack pack needs input.) script: 6bc235afa55de88253e203cc5fe5844792e25209, on @user_script:1.\x0d\x0a"),
    ("return {cmsgpack.unpack_one(cmsgpack.pack(1, 2))}", &[], &[], false, b"*2\x0d\x0a:1\x0d\x0a:1\x0d\x0a"),
    ("return {cmsgpack.unpack_one(cmsgpack.pack(1, 2))}", &[], &[], true, b"*2\x0d\x0a:1\x0d\x0a:1\x0d\x0a"),
    ("return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2)}", &[], &[], false, b"*3\x0d\x0a:2\x0d\x0a:1\x0d\x0a:2\x0d\x0a"),
    ("return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2)}", &[], &[], true, b"*3\x0d\x0a:2\x0d\x0a:1\x0d\x0a:2\x0d\x0a"),
    ("return {cmsgpack.unpack_one(cmsgpack.pack(1, 2), 1)}", &[], &[], false, b"*2\x0d\x0a:-1\x0d\x0a:2\x0d\x0a"),
    ("return {cmsgpack.unpack_one(cmsgpack.pack(1, 2), 1)}", &[], &[], true, b"*2\x0d\x0a:-1\x0d\x0a:2\x0d\x0a"),
    ("return cmsgpack.unpack_one('\\1', 5)", &[], &[], false, b"-ERR user_script:1: Start offset 5 greater than input length 1. script: 0b84bed325c6fcd085c3ccc52d11155d1cd4e846, on @user_script:1.\x0d\x0a"),
    ("return cmsgpack.unpack_one('\\1', 5)", &[], &[], true, b"-ERR user_script:1: Start offset 5 greater than input length 1. script: 0b84bed325c6fcd085c3ccc52d11155d1cd4e846, on @user_script:1.\x0d\x0a"),
    ("local t = {} local c = t for i=1,20 do c[1] = {} c = c[1] end return cmsgpack.pack(t)", &[], &[], false, b"$17\x0d\x0a\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\xc0\x0d\x0a"),
    ("local t = {} local c = t for i=1,20 do c[1] = {} c = c[1] end return cmsgpack.pack(t)", &[], &[], true, b"$17\x0d\x0a\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\xc0\x0d\x0a"),
    ("return cmsgpack.pack(0/0)", &[], &[], false, b"$9\x0d\x0a\xcb\xff\xf8\x00\x00\x00\x00\x00\x00\x0d\x0a"),
    ("return cmsgpack.pack(0/0)", &[], &[], true, b"$9\x0d\x0a\xcb\xff\xf8\x00\x00\x00\x00\x00\x00\x0d\x0a"),
    ("return cmsgpack.pack(2^63)", &[], &[], false, b"$5\x0d\x0a\xca_\x00\x00\x00\x0d\x0a"),
    ("return cmsgpack.pack(2^63)", &[], &[], true, b"$5\x0d\x0a\xca_\x00\x00\x00\x0d\x0a"),
    ("return cmsgpack.pack(-2^63)", &[], &[], false, b"$9\x0d\x0a\xd3\x80\x00\x00\x00\x00\x00\x00\x00\x0d\x0a"),
    ("return cmsgpack.pack(-2^63)", &[], &[], true, b"$9\x0d\x0a\xd3\x80\x00\x00\x00\x00\x00\x00\x00\x0d\x0a"),
    ("return cmsgpack.unpack('\\203\\127\\240\\0\\0\\0\\0\\0\\0')", &[], &[], false, b":-9223372036854775808\x0d\x0a"),
    ("return cmsgpack.unpack('\\203\\127\\240\\0\\0\\0\\0\\0\\0')", &[], &[], true, b":-9223372036854775808\x0d\x0a"),
    ("return cmsgpack._VERSION", &[], &[], false, b"$18\x0d\x0alua-cmsgpack 0.4.0\x0d\x0a"),
    ("return cmsgpack._VERSION", &[], &[], true, b"$18\x0d\x0alua-cmsgpack 0.4.0\x0d\x0a"),
    ("local a = {} for i=1,7999 do a[i] = 'k' end return redis.call('del', unpack(a))", &[], &[], false, b":0\x0d\x0a"),
    ("return {1, {map={a={set={b=true}}}}, {double=1.5}}", &[], &[], true, b"*3\x0d\x0a:1\x0d\x0a%1\x0d\x0a$1\x0d\x0aa\x0d\x0a~1\x0d\x0a$1\x0d\x0ab\x0d\x0a,1.5\x0d\x0a"),
    ("return _G", &[], &[], false, b"*0\x0d\x0a"),
    ("local a = {}; setmetatable(a,{__index=function() foo() end}) return a", &[], &[], false, b"*0\x0d\x0a"),
    ("return
                 table.concat(
                   cjson.decode(
                    \"[0.0, -5e3, -1, 0.3e-3, 1023.2, 0e10]\"), \" \")
        ", &[], &[], false, b"$26\x0d\x0a0 -5000 -1 0.0003 1023.2 0\x0d\x0a"),
    ("local decoded = cjson.decode('{\"keya\": \"a\", \"keyb\": \"b\"}')
                return {decoded.keya, decoded.keyb}
        ", &[], &[], false, b"*2\x0d\x0a$1\x0d\x0aa\x0d\x0a$1\x0d\x0ab\x0d\x0a"),
    ("
            local some_map = {
                s1=\"Some string\",
                n1=100,
                a1={\"Some\",\"String\",\"Array\"},
                nil1=nil,
                b1=true,
                b2=false}
            local encoded = cjson.encode(some_map)
            local decoded = cjson.decode(encoded)
            assert(table.concat(some_map) == table.concat(decoded))

            cjson.encode_keep_buffer(false)
            encoded = cjson.encode(some_map)
            decoded = cjson.decode(encoded)
            assert(table.concat(some_map) == table.concat(decoded))

            -- Table with numeric keys
            local table1 = {one=\"one\", [1]=\"one\"}
            encoded = cjson.encode(table1)
            decoded = cjson.decode(encoded)
            assert(decoded[\"one\"] == table1[\"one\"])
            assert(decoded[\"1\"] == table1[1])

            -- Array
            local array1 = {[1]=\"one\", [2]=\"two\"}
            encoded = cjson.encode(array1)
            decoded = cjson.decode(encoded)
            assert(table.concat(array1) == table.concat(decoded))

            -- Invalid keys
            local invalid_map = {}
            invalid_map[false] = \"false\"
            local ok, encoded = pcall(cjson.encode, invalid_map)
            assert(ok == false)

            -- Max depth
            cjson.encode_max_depth(1)
            ok, encoded = pcall(cjson.encode, some_map)
            assert(ok == false)

            cjson.decode_max_depth(1)
            ok, decoded = pcall(cjson.decode, '{\"obj\": {\"array\": [1,2,3,4]}}')
            assert(ok == false)

            -- Invalid numbers
            ok, encoded = pcall(cjson.encode, {num1=0/0})
            assert(ok == false)
            cjson.encode_invalid_numbers(true)
            ok, encoded = pcall(cjson.encode, {num1=0/0})
            assert(ok == true)

            -- Restore defaults
            cjson.decode_max_depth(1000)
            cjson.encode_max_depth(1000)
            cjson.encode_invalid_numbers(false)
        ", &[], &[], false, b"$-1\x0d\x0a"),
    ("local encoded = cmsgpack.pack(0.1)
                local h = \"\"
                for i = 1, #encoded do
                    h = h .. string.format(\"%02x\",string.byte(encoded,i))
                end
                return h
        ", &[], &[], false, b"$18\x0d\x0acb3fb999999999999a\x0d\x0a"),
    ("local encoded = cmsgpack.pack(-1099511627776)
                local h = \"\"
                for i = 1, #encoded do
                    h = h .. string.format(\"%02x\",string.byte(encoded,i))
                end
                return h
        ", &[], &[], false, b"$18\x0d\x0ad3ffffff0000000000\x0d\x0a"),
    ("
                local str_lt_32 = string.rep(\"x\", 30)
                local str_lt_255 = string.rep(\"x\", 250)
                local str_lt_65535 = string.rep(\"x\", 65530)
                local str_long = string.rep(\"x\", 100000)
                local array_lt_15 = {1, 2, 3, 4, 5}
                local array_lt_65535 = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18}
                local array_big = {}
                for i=1, 100000 do
                    array_big[i] = i
                end
                local map_lt_15 = {a=1, b=2}
                local map_big = {}
                for i=1, 100000 do
                    map_big[tostring(i)] = i
                end
                local some_map = {
                    s1=str_lt_32,
                    s2=str_lt_255,
                    s3=str_lt_65535,
                    s4=str_long,
                    d1=0.1,
                    i1=1,
                    i2=250,
                    i3=65530,
                    i4=100000,
                    i5=2^40,
                    i6=-1,
                    i7=-120,
                    i8=-32000,
                    i9=-100000,
                    i10=-3147483648,
                    a1=array_lt_15,
                    a2=array_lt_65535,
                    a3=array_big,
                    m1=map_lt_15,
                    m2=map_big,
                    b1=false,
                    b2=true,
                    n=nil
                }
                local encoded = cmsgpack.pack(some_map)
                local decoded = cmsgpack.unpack(encoded)
                assert(table.concat(some_map) == table.concat(decoded))
                local offset, decoded_one = cmsgpack.unpack_one(encoded, 0)
                assert(table.concat(some_map) == table.concat(decoded_one))
                assert(offset == -1)

                local encoded_multiple = cmsgpack.pack(str_lt_32, str_lt_255, str_lt_65535, str_long)
                local offset, obj = cmsgpack.unpack_limit(encoded_multiple, 1, 0)
                assert(obj == str_lt_32)
                offset, obj = cmsgpack.unpack_limit(encoded_multiple, 1, offset)
                assert(obj == str_lt_255)
                offset, obj = cmsgpack.unpack_limit(encoded_multiple, 1, offset)
                assert(obj == str_lt_65535)
                offset, obj = cmsgpack.unpack_limit(encoded_multiple, 1, offset)
                assert(obj == str_long)
                assert(offset == -1)
        ", &[], &[], false, b"$-1\x0d\x0a"),
    ("local a = {x=nil,y=5}
                local b = {x=a}
                a['x'] = b
                local encoded = cmsgpack.pack(a)
                local h = \"\"
                -- cmsgpack encodes to a depth of 16, but can't encode
                -- references, so the encoded object has a deep copy recursive
                -- depth of 16.
                for i = 1, #encoded do
                    h = h .. string.format(\"%02x\",string.byte(encoded,i))
                end
                -- when unpacked, re.x.x != re because the unpack creates
                -- individual tables down to a depth of 16.
                -- (that's why the encoded output is so large)
                local re = cmsgpack.unpack(encoded)
                assert(re)
                assert(re.x)
                assert(re.x.x.y == re.y)
                assert(re.x.x.x.x.y == re.y)
                assert(re.x.x.x.x.x.x.y == re.y)
                assert(re.x.x.x.x.x.x.x.x.x.x.y == re.y)
                -- maximum working depth:
                assert(re.x.x.x.x.x.x.x.x.x.x.x.x.x.x.y == re.y)
                -- now the last x would be b above and has no y
                assert(re.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x)
                -- so, the final x.x is at the depth limit and was assigned nil
                assert(re.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x == nil)
                return {h, re.x.x.x.x.x.x.x.x.y == re.y, re.y == 5}
        ", &[], &[], false, b"*3\x0d\x0a$146\x0d\x0a82a17905a17881a17882a17905a17881a17882a17905a17881a17882a17905a17881a17882a17905a17881a17882a17905a17881a17882a17905a17881a17882a17905a17881a178c0\x0d\x0a:1\x0d\x0a:1\x0d\x0a"),
    ("assert(0x7fffffff == 2147483647, \"broken hex literals\");
                assert(0xffffffff == -1 or 0xffffffff == 2^32-1,
                    \"broken hex literals\");
                assert(tostring(-1) == \"-1\", \"broken tostring()\");
                assert(tostring(0xffffffff) == \"-1\" or
                    tostring(0xffffffff) == \"4294967295\",
                    \"broken tostring()\")
        ", &[], &[], false, b"$-1\x0d\x0a"),
    ("assert(bit.tobit(1) == 1);
                assert(bit.band(1) == 1);
                assert(bit.bxor(1,2) == 3);
                assert(bit.bor(1,2,4,8,16,32,64,128) == 255)
        ", &[], &[], false, b"$-1\x0d\x0a"),
    ("return 'hello' --trailing comment", &[], &[], false, b"$5\x0d\x0ahello\x0d\x0a"),
    ("
                  redis.sha1hex()
            ", &[], &[], false, b"-ERR wrong number of arguments script: 4dda0f642268871250d8fb7a8ab87d69db87b3fb, on @user_script:2.\x0d\x0a"),
    ("
            return loadstring(string.dump(function() return 1 end))()
        ", &[], &[], false, b"-ERR user_script:2: attempt to call a nil value script: dea79e6976b07a2221cd6aecd74e9a6efba58dbf, on @user_script:2.\x0d\x0a"),
    ("local value = 9007199254740991 redis.call('set','foo',value) return redis.call('get','foo')", &[], &[], false, b"$16\x0d\x0a9007199254740991\x0d\x0a"),
    ("redis.call('set','invalid')", &[], &[], false, b"-ERR Wrong number of args calling Redis command from script script: 1a5c3ece5ad455794cc7d0dda435ffd9cf8d58c2, on @user_script:1.\x0d\x0a"),
    ("return redis.call('config', 'set', 'x', 'y')", &[], &[], false, b"-ERR This Redis command is not allowed from script script: 5ec23bd14657dd898bab1e0a00bc3d5d9b1a6df6, on @user_script:1.\x0d\x0a"),
    ("local f, e = loadstring(string.dump(function() return 1 end), 'x') return e", &[], &[], false, b"$49\x0d\x0a[string \x22x\x22]:1: unexpected symbol near 'char(27)'\x0d\x0a"),
    ("local f, e = loadstring('retur 1') return e", &[], &[], false, b"$43\x0d\x0a[string \x22retur 1\x22]:1: '=' expected near '1'\x0d\x0a"),
    ("local f, e = loadstring('retur 1', '=mine') return e", &[], &[], false, b"$29\x0d\x0amine:1: '=' expected near '1'\x0d\x0a"),
    ("local i = 0 local f = load(function() i = i + 1 if i == 1 then return 'return 7' end end) return f()", &[], &[], false, b":7\x0d\x0a"),
    ("local f, e = load(function() return nil end) return type(f)", &[], &[], false, b"$8\x0d\x0afunction\x0d\x0a"),
    ("return loadstring('return 1', 'x', 'y')()", &[], &[], false, b":1\x0d\x0a"),
    ("return loadstring()", &[], &[], false, b"-ERR user_script:1: bad argument #1 to 'loadstring' (string expected, got no value) script: d80723d7d8427f977d218ab648c910adce50e8a3, on @user_script:1.\x0d\x0a"),
    ("return load()", &[], &[], false, b"-ERR user_script:1: bad argument #1 to 'load' (function expected, got no value) script: a6fcbea7c6189fb0ab8d5189022a9a1440eee157, on @user_script:1.\x0d\x0a"),
];
