// BullMQ, the Node.js job queue: its Lua scripts move jobs between lists, sorted sets and
// hashes whose keys live on every shard, and append to an events stream that QueueEvents reads
// with XREAD BLOCK. A queue, four workers and a QueueEvents listener run the way applications
// run them. Checked: every job completes once with its result, a failing job is retried and
// ends failed, a delayed job runs after its delay, and the counts add up; prioritized jobs
// added before any worker runs are taken highest priority first, in order of addition among
// equals.
"use strict";
const { Queue, Worker, QueueEvents } = require("bullmq");

async function main() {
  const port = Number(process.argv[2]);
  const connection = { host: "127.0.0.1", port };
  const name = `jobs${Date.now()}`;
  const queue = new Queue(name, { connection });
  const events = new QueueEvents(name, { connection });
  await events.waitUntilReady();
  const seen = new Map();
  const workers = [];
  for (let i = 0; i < 4; i++) {
    workers.push(
      new Worker(
        name,
        async (job) => {
          if (job.name === "boom") throw new Error("boom");
          seen.set(job.id, (seen.get(job.id) || 0) + 1);
          return { doubled: job.data.x * 2 };
        },
        { connection, concurrency: 4 }
      )
    );
  }
  const n = 200;
  const completed = new Set();
  events.on("completed", ({ jobId }) => completed.add(jobId));
  const jobs = await queue.addBulk(
    Array.from({ length: n }, (_, x) => ({ name: "double", data: { x } }))
  );
  const failing = await queue.add("boom", {}, { attempts: 2, backoff: { type: "fixed", delay: 10 } });
  const delayed = await queue.add("double", { x: 1000 }, { delay: 300 });
  const results = await Promise.all(jobs.map((j) => j.waitUntilFinished(events, 60000)));
  results.forEach((r, x) => {
    if (r.doubled !== x * 2) throw new Error(`job ${x} returned ${JSON.stringify(r)}`);
  });
  const late = await delayed.waitUntilFinished(events, 60000);
  if (late.doubled !== 2000) throw new Error(`delayed job returned ${JSON.stringify(late)}`);
  let failedReason = null;
  try {
    await failing.waitUntilFinished(events, 60000);
  } catch (e) {
    failedReason = e.message;
  }
  if (failedReason !== "boom") throw new Error(`failing job ended with ${failedReason}`);
  const f = await queue.getJob(failing.id);
  if (f.attemptsMade !== 2) throw new Error(`failing job made ${f.attemptsMade} attempts, want 2`);
  for (const [id, times] of seen) {
    if (times !== 1) throw new Error(`job ${id} ran ${times} times`);
  }
  if (seen.size !== n + 1) throw new Error(`${seen.size} jobs ran, want ${n + 1}`);
  const counts = await queue.getJobCounts("completed", "failed", "wait", "active", "delayed");
  if (counts.completed !== n + 1 || counts.failed !== 1 || counts.wait + counts.active + counts.delayed !== 0) {
    throw new Error(`job counts ${JSON.stringify(counts)}`);
  }
  for (let tries = 0; completed.size < n + 1 && tries < 100; tries++) {
    await new Promise((r) => setTimeout(r, 20));
  }
  if (completed.size < n + 1) throw new Error(`QueueEvents saw ${completed.size} completions`);
  await Promise.all(workers.map((w) => w.close()));
  await events.close();
  await queue.obliterate({ force: true });
  await queue.close();
  console.log(`bullmq_jobs: ${n + 1} jobs completed once each, 1 failed after 2 attempts, counts ${JSON.stringify(counts)}`);
  await priorities(connection);
}

// Jobs with priorities (1 is the highest) added while no worker runs, then taken by one worker
// one at a time: the order must be by priority, and by addition within one priority.
async function priorities(connection) {
  const name = `prio${Date.now()}`;
  const queue = new Queue(name, { connection });
  const jobs = [];
  for (let i = 0; i < 60; i++) {
    jobs.push({ name: "p", data: { i, priority: 1 + ((i * 7) % 5) }, opts: { priority: 1 + ((i * 7) % 5) } });
  }
  await queue.addBulk(jobs);
  const order = [];
  let done;
  const finished = new Promise((r) => (done = r));
  const worker = new Worker(
    name,
    async (job) => {
      order.push(job.data);
      if (order.length === jobs.length) done();
    },
    { connection, concurrency: 1 }
  );
  await Promise.race([finished, new Promise((_, rej) => setTimeout(() => rej(new Error("prioritized jobs did not finish")), 60000))]);
  const want = jobs
    .map((j) => j.data)
    .sort((a, b) => a.priority - b.priority || a.i - b.i)
    .map((d) => d.i);
  const got = order.map((d) => d.i);
  if (JSON.stringify(got) !== JSON.stringify(want)) {
    throw new Error(`prioritized jobs ran in order ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
  }
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  console.log(`bullmq_jobs: ${jobs.length} prioritized jobs taken in priority order`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
