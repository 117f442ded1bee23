// ioredis's defineCommand: Lua scripts sent by EVALSHA, falling back to EVAL on
// NOSCRIPT, used the way rate limiters and counters use them, from several
// connections at once. Checked: each script's results and the final state.
"use strict";
const Redis = require("ioredis");

async function main() {
  const port = Number(process.argv[2]);
  const admin = new Redis({ port });
  await admin.flushall();
  await admin.script("FLUSH");
  const clients = [];
  for (let i = 0; i < 4; i++) {
    const r = new Redis({ port });
    // A fixed-window rate limiter: INCR, set the window's expiry on the first hit.
    r.defineCommand("hit", {
      numberOfKeys: 1,
      lua: `
        local n = redis.call('INCR', KEYS[1])
        if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
        if n > tonumber(ARGV[2]) then return {n, 0} end
        return {n, 1}`,
    });
    // Moves a job id from one list to another and records it in a hash (keys on several shards).
    r.defineCommand("claim", {
      numberOfKeys: 3,
      lua: `
        local id = redis.call('RPOPLPUSH', KEYS[1], KEYS[2])
        if not id then return false end
        redis.call('HSET', KEYS[3], id, ARGV[1])
        return id`,
    });
    clients.push(r);
  }
  const limit = 50;
  const results = await Promise.all(
    clients.map(async (r) => {
      let allowed = 0;
      for (let i = 0; i < 40; i++) {
        const [, ok] = await r.hit("rate:user1", 60000, limit);
        allowed += ok;
      }
      return allowed;
    })
  );
  const allowed = results.reduce((a, b) => a + b, 0);
  if (allowed !== limit) throw new Error(`rate limiter allowed ${allowed}, want ${limit}`);
  const ttl = await admin.pttl("rate:user1");
  if (!(ttl > 0 && ttl <= 60000)) throw new Error(`rate limiter window has pttl ${ttl}`);

  const jobs = 200;
  for (let i = 0; i < jobs; i++) await admin.lpush("queue:wait", `job${i}`);
  const claimed = await Promise.all(
    clients.map(async (r, w) => {
      let n = 0;
      for (;;) {
        const id = await r.claim("queue:wait", "queue:active", "jobs:owner", `worker${w}`);
        if (id === null) return n;
        n++;
      }
    })
  );
  const total = claimed.reduce((a, b) => a + b, 0);
  if (total !== jobs) throw new Error(`claimed ${total} jobs, want ${jobs}`);
  if ((await admin.llen("queue:active")) !== jobs) throw new Error("active list is short");
  if ((await admin.hlen("jobs:owner")) !== jobs) throw new Error("owner hash is short");
  for (const r of clients) r.disconnect();
  admin.disconnect();
  console.log(`ioredis_scripts: ${allowed} of 160 hits allowed at limit ${limit}; ${total} jobs claimed once each`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
