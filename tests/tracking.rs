//! Client-side caching (CLIENT TRACKING): every case runs the same script against
//! redis-server 7.0.15 and against Rustis on one thread and on four, and compares what each
//! connection received (replies and pushes) byte for byte. Client ids differ between servers,
//! so they are written as `ID`.
//!
//! With four threads the keys of a case are spread over the shards (`spread`), so a tracking
//! client is invalidated for keys written on other threads than its own; BCAST cases use
//! `{hash tags}`, since Rustis sends one BCAST message per thread whose keys changed (Redis one
//! per prefix), as docs/tracking.md says.

use rustis_tests::{encode, show, spread, RawConn, Reference, TestServer, THREADS};

/// A script's record: what each step received, labelled.
type Log = Vec<(String, Vec<u8>)>;

struct Run<'a> {
    open: &'a dyn Fn() -> RawConn,
    threads: usize,
    log: Log,
    ids: Vec<u64>,
}

impl Run<'_> {
    fn conn(&self) -> RawConn {
        (self.open)()
    }

    /// A connection and its client id (remembered, to be written as `ID`).
    fn conn_id(&mut self) -> (RawConn, u64) {
        let mut c = self.conn();
        let r = c.cmd(&["CLIENT", "ID"]);
        let id = show(&r[1..r.len() - 2]).parse().expect("id");
        self.ids.push(id);
        (c, id)
    }

    fn resp3(&mut self) -> RawConn {
        let mut c = self.conn();
        c.cmd(&["HELLO", "3"]);
        c
    }

    /// Writes client ids as `ID` in the steps that show one (labels naming `info`, `redir`).
    fn norm(&self, label: &str, b: Vec<u8>) -> Vec<u8> {
        if !label.contains("info") && !label.contains("redir") {
            return b;
        }
        let mut s = show(&b);
        for id in &self.ids {
            s = s.replace(&format!(":{id}\r\n"), ":ID\r\n");
        }
        s.into_bytes()
    }

    fn cmd(&mut self, label: &str, c: &mut RawConn, args: &[&str]) {
        let r = c.cmd(args);
        let r = self.norm(label, r);
        self.log.push((label.to_string(), r));
    }

    fn read(&mut self, label: &str, c: &mut RawConn) {
        let r = c.read_reply();
        let r = self.norm(label, r);
        self.log.push((label.to_string(), r));
    }

    /// Reads `n` replies and records them sorted (pushes from several shards).
    fn read_sorted(&mut self, label: &str, c: &mut RawConn, n: usize) {
        let mut all: Vec<Vec<u8>> = (0..n).map(|_| c.read_reply()).collect();
        all.sort();
        self.log.push((label.to_string(), all.concat()));
    }
}

/// Runs `script` against redis-server and against Rustis on each thread count, and compares.
fn compare(script: impl Fn(&mut Run)) {
    let reference = Reference::start();
    for t in THREADS {
        let mut want = Run {
            open: &|| reference.conn(),
            threads: t,
            log: Vec::new(),
            ids: Vec::new(),
        };
        reference.conn().cmd(&["FLUSHALL"]);
        script(&mut want);
        let s = TestServer::start(t);
        let mut got = Run {
            open: &|| s.raw(),
            threads: t,
            log: Vec::new(),
            ids: Vec::new(),
        };
        script(&mut got);
        assert_eq!(want.log.len(), got.log.len());
        for ((label, w), (_, g)) in want.log.iter().zip(&got.log) {
            assert_eq!(show(g), show(w), "step {label:?} on {t} threads");
        }
    }
}

#[test]
fn resp3_client_is_invalidated_for_keys_written_on_any_thread() {
    compare(|r| {
        let keys = spread("key", 4, r.threads);
        let mut t = r.resp3();
        let mut w = r.conn();
        r.cmd("on", &mut t, &["CLIENT", "TRACKING", "on"]);
        for k in &keys {
            r.cmd("set", &mut w, &["SET", k, "1"]);
            r.cmd("get", &mut t, &["GET", k]);
            // Written by another connection (on four threads, mostly another thread's key).
            r.cmd("write", &mut w, &["INCR", k]);
            r.read("invalidate", &mut t);
            // Invalidated once: the key left the table.
            r.cmd("write again", &mut w, &["INCR", k]);
        }
        // MGET remembers every key it names, on every shard.
        let mut mget = vec!["MGET"];
        mget.extend(keys.iter().map(String::as_str));
        r.cmd("mget", &mut t, &mget);
        let mut del = vec!["DEL"];
        del.extend(keys.iter().map(String::as_str));
        r.cmd("del", &mut w, &del);
        r.read_sorted("invalidations", &mut t, keys.len());
        // A key written but never read sends nothing: the next push is the read one.
        r.cmd("get", &mut t, &["GET", &keys[0]]);
        r.cmd("write unread", &mut w, &["SET", &keys[1], "x"]);
        r.cmd("write read", &mut w, &["SET", &keys[0], "x"]);
        r.read("only the read key", &mut t);
        // Its own write: the invalidation follows the reply, even inside a pipeline.
        r.cmd("hset", &mut t, &["HSET", "h", "f", "v"]);
        let mut pipe = encode(&[b"HGETALL", b"h"]);
        pipe.extend(encode(&[b"HDEL", b"h", b"f"]));
        pipe.extend(encode(&[b"PING"]));
        t.send(&pipe);
        for label in ["hgetall", "hdel", "own invalidation", "ping"] {
            r.read(label, &mut t);
        }
        // Inside MULTI/EXEC: after EXEC's reply.
        r.cmd("get", &mut t, &["GET", &keys[2]]);
        r.cmd("multi", &mut t, &["MULTI"]);
        r.cmd("queued", &mut t, &["INCR", &keys[2]]);
        r.cmd("queued", &mut t, &["GET", &keys[2]]);
        r.cmd("exec", &mut t, &["EXEC"]);
        r.read("after exec", &mut t);
        // Scripts: a read command the script calls remembers the script's declared keys.
        r.cmd("mset", &mut w, &["MSET", "s1{s}", "1", "s2{s}", "1"]);
        let write = "redis.call('set', 's3{s}', 'bar')";
        r.cmd(
            "eval write",
            &mut t,
            &["EVAL", write, "2", "s1{s}", "s2{s}"],
        );
        r.cmd("mset", &mut w, &["MSET", "s2{s}", "2", "s1{s}", "2"]);
        let read = "redis.call('get', 's3{s}')";
        r.cmd("eval read", &mut t, &["EVAL", read, "2", "s1{s}", "s2{s}"]);
        r.cmd("mset", &mut w, &["MSET", "s2{s}", "3", "s1{s}", "3"]);
        r.read("declared key", &mut t);
        r.read("declared key", &mut t);
        r.cmd("eval_ro", &mut t, &["EVAL_RO", read, "2", "s1{s}", "s2{s}"]);
        r.cmd("mset", &mut w, &["MSET", "s2{s}", "4", "s1{s}", "4"]);
        r.read("declared key", &mut t);
        r.read("declared key", &mut t);
        // A blocked command served later: its own invalidation follows its reply.
        r.cmd("rpush", &mut w, &["RPUSH", "list2{b}", "a"]);
        r.cmd("lrange", &mut t, &["LRANGE", "list2{b}", "0", "-1"]);
        t.send_cmd(&["BLMOVE", "list1{b}", "list2{b}", "LEFT", "LEFT", "0"]);
        while !show(&w.cmd(&["INFO", "clients"])).contains("blocked_clients:1\r\n") {
            std::thread::yield_now();
        }
        r.cmd("unblock", &mut w, &["RPUSH", "list1{b}", "foo"]);
        r.read("blmove", &mut t);
        r.read("then its invalidation", &mut t);
        r.cmd("info", &mut t, &["CLIENT", "TRACKINGINFO"]);
        r.cmd("getredir", &mut t, &["CLIENT", "GETREDIR"]);
        r.cmd("off", &mut t, &["CLIENT", "TRACKING", "off"]);
    });
}

#[test]
fn redirect_to_a_resp2_subscriber_and_flushes() {
    compare(|r| {
        let keys = spread("rk", 3, r.threads);
        let (mut sub, sub_id) = r.conn_id();
        r.cmd(
            "subscribe",
            &mut sub,
            &["SUBSCRIBE", "__redis__:invalidate"],
        );
        let mut t = r.conn();
        let mut w = r.conn();
        let id = sub_id.to_string();
        r.cmd("on", &mut t, &["CLIENT", "TRACKING", "on", "REDIRECT", &id]);
        for k in &keys {
            r.cmd("get", &mut t, &["GET", k]);
            r.cmd("set", &mut w, &["SET", k, "v"]);
            r.read("message", &mut sub);
        }
        r.cmd("getredir", &mut t, &["CLIENT", "GETREDIR"]);
        r.cmd("info", &mut t, &["CLIENT", "TRACKINGINFO"]);
        // FLUSHALL and FLUSHDB: a null for every tracking client, in the tracking client's
        // protocol (RESP2 here).
        r.cmd("flushall", &mut w, &["FLUSHALL"]);
        r.read("null", &mut sub);
        r.cmd("flushdb", &mut w, &["FLUSHDB"]);
        r.read("null", &mut sub);
        // A RESP3 client redirecting to the same subscriber.
        let mut t3 = r.resp3();
        r.cmd(
            "on",
            &mut t3,
            &["CLIENT", "TRACKING", "on", "REDIRECT", &id],
        );
        r.cmd("get", &mut t3, &["GET", &keys[0]]);
        r.cmd("set", &mut w, &["SET", &keys[0], "v"]);
        r.read("message", &mut sub);
        r.cmd("flushall", &mut w, &["FLUSHALL"]);
        r.read_sorted("two nulls", &mut sub, 2);
        // Without redirection a RESP2 client gets nothing; with FLUSHALL from itself, a
        // RESP3 client gets its null after the reply.
        r.cmd("off", &mut t3, &["CLIENT", "TRACKING", "off"]);
        r.cmd("on", &mut t3, &["CLIENT", "TRACKING", "on"]);
        r.cmd("own flushall", &mut t3, &["FLUSHALL"]);
        r.read("own null", &mut t3);
        r.cmd("off", &mut t, &["CLIENT", "TRACKING", "off"]);
        r.cmd("off", &mut t3, &["CLIENT", "TRACKING", "off"]);
        r.cmd("unsubscribe", &mut sub, &["UNSUBSCRIBE"]);
    });
}

#[test]
fn redirect_broken_and_resp3_redirect_target() {
    compare(|r| {
        let mut w = r.conn();
        // A RESP3 target gets pushes.
        let (mut target, target_id) = r.conn_id();
        target.cmd(&["HELLO", "3"]);
        let mut t = r.conn();
        let id = target_id.to_string();
        r.cmd("on", &mut t, &["CLIENT", "TRACKING", "on", "REDIRECT", &id]);
        r.cmd("get", &mut t, &["GET", "k1"]);
        r.cmd("set", &mut w, &["SET", "k1", "1"]);
        r.read("push to target", &mut target);
        // The target goes away: a RESP3 tracking client is told at the next invalidation.
        let mut t3 = r.resp3();
        r.cmd(
            "on",
            &mut t3,
            &["CLIENT", "TRACKING", "on", "REDIRECT", &id],
        );
        r.cmd("get", &mut t3, &["GET", "k2"]);
        r.cmd("quit", &mut target, &["QUIT"]);
        drop(target);
        loop {
            let list = w.cmd(&["CLIENT", "LIST", "ID", &id]);
            if list.len() < 8 {
                break;
            }
        }
        r.cmd("set", &mut w, &["SET", "k2", "1"]);
        r.read("redir broken", &mut t3);
        r.cmd("info", &mut t3, &["CLIENT", "TRACKINGINFO"]);
        let line = show(&t3.cmd(&["CLIENT", "INFO"]));
        let flags = line
            .split(' ')
            .filter(|f| f.starts_with("flags=") || f.starts_with("redir="))
            .collect::<Vec<_>>()
            .join(" ");
        let flags = flags.replace(&id, "ID").into_bytes();
        r.log.push(("client info".into(), flags));
        r.cmd("off", &mut t3, &["CLIENT", "TRACKING", "off"]);
        r.cmd("info off", &mut t3, &["CLIENT", "TRACKINGINFO"]);
        r.cmd("getredir off", &mut t3, &["CLIENT", "GETREDIR"]);
    });
}

#[test]
fn bcast_with_prefixes() {
    compare(|r| {
        let (mut sub, sub_id) = r.conn_id();
        r.cmd(
            "subscribe",
            &mut sub,
            &["SUBSCRIBE", "__redis__:invalidate"],
        );
        let id = sub_id.to_string();
        let mut t = r.conn();
        let mut w = r.conn();
        r.cmd(
            "on",
            &mut t,
            &[
                "CLIENT", "TRACKING", "on", "BCAST", "REDIRECT", &id, "PREFIX", "a:", "PREFIX",
                "b:",
            ],
        );
        r.cmd("multi", &mut w, &["MULTI"]);
        for k in ["a:1{t}", "a:2{t}", "b:1{t}", "b:2{t}", "c:1{t}"] {
            r.cmd("queued", &mut w, &["INCR", k]);
        }
        r.cmd("exec", &mut w, &["EXEC"]);
        r.read_sorted("one message per prefix", &mut sub, 2);
        r.cmd(
            "add prefix",
            &mut t,
            &[
                "CLIENT", "TRACKING", "on", "BCAST", "REDIRECT", &id, "PREFIX", "c:",
            ],
        );
        r.cmd("incr", &mut w, &["INCR", "c:1234"]);
        r.read("new prefix", &mut sub);
        r.cmd("info", &mut t, &["CLIENT", "TRACKINGINFO"]);
        r.cmd(
            "overlap",
            &mut t,
            &["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a"],
        );
        r.cmd("switch", &mut t, &["CLIENT", "TRACKING", "on"]);
        r.cmd(
            "optin",
            &mut t,
            &["CLIENT", "TRACKING", "on", "BCAST", "OPTIN"],
        );
        let list = show(&t.cmd(&["CLIENT", "INFO"]));
        let flags = list
            .split(' ')
            .find(|f| f.starts_with("flags="))
            .unwrap_or("");
        r.log.push(("flags".into(), flags.as_bytes().to_vec()));
        r.cmd("off", &mut t, &["CLIENT", "TRACKING", "off"]);
        // The empty prefix: every key. A RESP3 client without redirection.
        let mut t3 = r.resp3();
        r.cmd("all", &mut t3, &["CLIENT", "TRACKING", "on", "BCAST"]);
        r.cmd(
            "mset",
            &mut w,
            &["MSET", "x{u}", "1", "y{u}", "2", "z{u}", "3"],
        );
        r.read("all keys", &mut t3);
        r.cmd("info", &mut t3, &["CLIENT", "TRACKINGINFO"]);
        // Prefix errors, as Redis words them.
        let mut e = r.conn();
        for args in [
            &[
                "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "FOOBAR", "PREFIX", "FOO",
            ][..],
            &[
                "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "FOO", "PREFIX", "FOOBAR",
            ],
            &[
                "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "FOO", "PREFIX", "BAR",
            ],
            &["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "FO"],
            &["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "BARB"],
            &["CLIENT", "TRACKINGINFO"],
        ] {
            r.cmd("prefixes", &mut e, args);
        }
        r.cmd("off", &mut e, &["CLIENT", "TRACKING", "off"]);
        // Redis 7.0.15 answers an overlap found past the first given prefix with the error
        // and then turns tracking on (`+OK`) all the same.
        e.send_cmd(&[
            "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "x", "PREFIX", "b", "PREFIX", "bc",
        ]);
        r.read("error", &mut e);
        r.read("and OK", &mut e);
        r.cmd("info", &mut e, &["CLIENT", "TRACKINGINFO"]);
        r.cmd("off", &mut t3, &["CLIENT", "TRACKING", "off"]);
        r.cmd("off", &mut e, &["CLIENT", "TRACKING", "off"]);
        r.cmd("unsubscribe", &mut sub, &["UNSUBSCRIBE"]);
    });
}

#[test]
fn optin_optout_and_caching() {
    compare(|r| {
        let keys = spread("o", 3, r.threads);
        let (a, b, c) = (&keys[0], &keys[1], &keys[2]);
        let mut w = r.conn();
        let mut t = r.resp3();
        r.cmd("optin", &mut t, &["CLIENT", "TRACKING", "on", "OPTIN"]);
        r.cmd("not cached", &mut t, &["GET", a]);
        r.cmd("caching yes", &mut t, &["CLIENT", "CACHING", "yes"]);
        r.cmd("info", &mut t, &["CLIENT", "TRACKINGINFO"]);
        r.cmd("cached", &mut t, &["GET", b]);
        r.cmd("one command only", &mut t, &["GET", c]);
        for k in [a, b, c] {
            r.cmd("write", &mut w, &["SET", k, "1"]);
        }
        r.read("only the cached key", &mut t);
        // CACHING yes lasts a whole transaction.
        r.cmd("caching yes", &mut t, &["CLIENT", "CACHING", "yes"]);
        r.cmd("multi", &mut t, &["MULTI"]);
        r.cmd("queued", &mut t, &["GET", a]);
        r.cmd("exec", &mut t, &["EXEC"]);
        r.cmd("write", &mut w, &["SET", a, "2"]);
        r.read("key read in the transaction", &mut t);
        r.cmd("no in optin", &mut t, &["CLIENT", "CACHING", "no"]);
        r.cmd("switch", &mut t, &["CLIENT", "TRACKING", "on", "OPTOUT"]);
        r.cmd("off", &mut t, &["CLIENT", "TRACKING", "off"]);
        r.cmd("optout", &mut t, &["CLIENT", "TRACKING", "on", "OPTOUT"]);
        r.cmd("caching no", &mut t, &["CLIENT", "CACHING", "no"]);
        r.cmd("info", &mut t, &["CLIENT", "TRACKINGINFO"]);
        r.cmd("not cached", &mut t, &["GET", a]);
        r.cmd("cached", &mut t, &["GET", b]);
        for k in [a, b] {
            r.cmd("write", &mut w, &["SET", k, "3"]);
        }
        r.read("only the cached key", &mut t);
        r.cmd("yes in optout", &mut t, &["CLIENT", "CACHING", "yes"]);
        r.cmd("off", &mut t, &["CLIENT", "TRACKING", "off"]);
        r.cmd("caching off", &mut t, &["CLIENT", "CACHING", "yes"]);
    });
}

#[test]
fn noloop_in_default_and_bcast_modes() {
    compare(|r| {
        let keys = spread("n", 3, r.threads);
        let (mut sub, sub_id) = r.conn_id();
        r.cmd(
            "subscribe",
            &mut sub,
            &["SUBSCRIBE", "__redis__:invalidate"],
        );
        let id = sub_id.to_string();
        let mut t = r.conn();
        let mut w = r.conn();
        r.cmd(
            "noloop",
            &mut t,
            &["CLIENT", "TRACKING", "on", "REDIRECT", &id, "NOLOOP"],
        );
        r.cmd("mget", &mut t, &["MGET", &keys[0], &keys[1], &keys[2]]);
        r.cmd("other", &mut w, &["SET", &keys[0], "1"]);
        r.read("other's write", &mut sub);
        r.cmd("own", &mut t, &["SET", &keys[1], "1"]);
        r.cmd("other", &mut w, &["SET", &keys[2], "1"]);
        r.read("not its own write", &mut sub);
        r.cmd("off", &mut t, &["CLIENT", "TRACKING", "off"]);
        r.cmd(
            "bcast noloop",
            &mut t,
            &[
                "CLIENT", "TRACKING", "on", "BCAST", "REDIRECT", &id, "NOLOOP",
            ],
        );
        r.cmd("other", &mut w, &["SET", "other1", "1"]);
        r.read("other's write", &mut sub);
        r.cmd("own", &mut t, &["SET", "loopkey", "1"]);
        r.cmd("other", &mut w, &["SET", "other2", "1"]);
        r.read("not its own write", &mut sub);
        // A key that expires was changed by nobody: sent, though the client set it.
        r.cmd("own volatile", &mut t, &["SET", "vol", "v", "PX", "1"]);
        r.read("expired", &mut sub);
        r.cmd("off", &mut t, &["CLIENT", "TRACKING", "off"]);
        r.cmd("unsubscribe", &mut sub, &["UNSUBSCRIBE"]);
    });
}

#[test]
fn argument_errors_and_reset() {
    compare(|r| {
        let mut c = r.conn();
        for args in [
            &["CLIENT", "TRACKING", "on", "PREFIX", "a"][..],
            &["CLIENT", "TRACKING", "on", "OPTIN", "OPTOUT"],
            &["CLIENT", "TRACKING", "on", "BCAST", "OPTOUT"],
            &["CLIENT", "TRACKING", "maybe"],
            &["CLIENT", "TRACKING", "on", "REDIRECT", "999999"],
            &["CLIENT", "TRACKING", "on", "REDIRECT", "x"],
            &["CLIENT", "TRACKING", "on", "REDIRECT"],
            &["CLIENT", "TRACKING", "on", "PREFIX"],
            &["CLIENT", "TRACKING", "on", "foo"],
            &["CLIENT", "TRACKING"],
            &["CLIENT", "CACHING", "yes"],
            &["CLIENT", "CACHING"],
            &["CLIENT", "GETREDIR"],
            &["CLIENT", "GETREDIR", "x"],
            &["CLIENT", "TRACKINGINFO"],
            &["CLIENT", "TRACKINGINFO", "x"],
            &["CLIENT", "TRACKING", "on"],
            &["CLIENT", "CACHING", "maybe"],
            &["CLIENT", "CACHING", "yes"],
            &["CLIENT", "CACHING", "no"],
            &["CLIENT", "TRACKING", "on", "OPTIN"],
            &["CLIENT", "TRACKING", "off"],
            &["CLIENT", "TRACKING", "on", "NOLOOP", "REDIRECT", "0"],
            &["CLIENT", "TRACKINGINFO"],
            &["CONFIG", "GET", "tracking-table-max-keys"],
        ] {
            r.cmd("args", &mut c, args);
        }
        let (_other, other) = r.conn_id();
        let other = other.to_string();
        r.cmd(
            "two redirects",
            &mut c,
            &[
                "CLIENT", "TRACKING", "on", "REDIRECT", &other, "REDIRECT", &other,
            ],
        );
        r.cmd("reset", &mut c, &["RESET"]);
        r.cmd("after reset", &mut c, &["CLIENT", "TRACKINGINFO"]);
    });
}

#[test]
fn tracking_table_max_keys_invalidates_what_it_drops() {
    for t in THREADS {
        let s = TestServer::start(t);
        let keys = spread("m", 2, t);
        let mut c = s.raw();
        c.cmd(&["HELLO", "3"]);
        let mut w = s.raw();
        assert_eq!(show(&c.cmd(&["CLIENT", "TRACKING", "on"])), "+OK\r\n");
        c.cmd(&["MGET", &keys[0], &keys[1]]);
        let info = show(&w.cmd(&["INFO", "stats"]));
        assert!(info.contains("tracking_total_keys:2\r\n"), "{info}");
        assert!(info.contains("tracking_total_items:2\r\n"), "{info}");
        assert_eq!(
            show(&w.cmd(&["CONFIG", "SET", "tracking-table-max-keys", "1"])),
            "+OK\r\n"
        );
        // One key leaves the table, and the client is told as if it had changed.
        let push = show(&c.read_reply());
        let one_of = keys
            .iter()
            .any(|k| push == format!(">2\r\n$10\r\ninvalidate\r\n*1\r\n${}\r\n{k}\r\n", k.len()));
        assert!(one_of, "{push}");
        let info = show(&w.cmd(&["INFO", "stats"]));
        assert!(info.contains("tracking_total_keys:1\r\n"), "{info}");
        let clients = show(&w.cmd(&["INFO", "clients"]));
        assert!(clients.contains("tracking_clients:1\r\n"), "{clients}");
    }
}

#[test]
fn a_redirection_target_gone_after_its_quit_reply_breaks_the_redirection_at_once() {
    compare(|r| {
        let key = &spread("key", 1, r.threads)[0];
        let (mut target, id) = r.conn_id();
        let mut t = r.resp3();
        let mut w = r.conn();
        r.cmd(
            "on redir",
            &mut t,
            &["CLIENT", "TRACKING", "on", "REDIRECT", &id.to_string()],
        );
        r.cmd("set", &mut w, &["SET", key, "1"]);
        r.cmd("get", &mut t, &["GET", key]);
        // Once QUIT has replied, the target is gone: the next invalidation for it finds no one.
        r.cmd("quit", &mut target, &["QUIT"]);
        r.cmd("write", &mut w, &["SET", key, "2"]);
        r.cmd("redir broken", &mut t, &["PING"]);
        r.read("pong", &mut t);
    });
}
