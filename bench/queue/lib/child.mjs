// One step of one peer's round, in its own process (run.mjs pins it with taskset):
//
//   setup      create the peer's tables in its namespace
//   enqueue    enqueue ctx.jobs no-op jobs in batches of ctx.batch; prints RESULT {enqueueMs}
//   work       start a worker (ctx.concurrency); once ctx.jobs jobs completed prints
//              THROUGHPUT {...}, then READY, then records the latency jobs and prints RESULT
//   latency    enqueue ctx.latencyJobs jobs one at a time, ctx.spacingMs apart, each
//              carrying its send time; prints RESULT {sent}
//   cost       (cost.mjs) start a worker, run ctx.jobs jobs, stop; prints RESULT with the
//              process's CPU time (user, system) and wall time from the first handler
//              start to the last completion
//
// Times are wall-clock milliseconds with sub-millisecond precision (performance.timeOrigin
// + performance.now()), so a send time written by one process can be read in another.
import { setTimeout as sleep } from 'node:timers/promises';

const [step, peerName] = process.argv.slice(2);
const ctx = JSON.parse(process.env.KEEL_QUEUE_BENCH_CTX ?? '{}');
const peer = await import(new URL(`../peers/${peerName}.mjs`, import.meta.url));
const now = () => performance.timeOrigin + performance.now();
const emit = (tag, value) => process.stdout.write(`${tag} ${JSON.stringify(value)}\n`);

// A child never outlives its watchdog: the parent kills it too, this is the second net.
setTimeout(() => {
  console.error(`child ${step} ${peerName}: timed out`);
  process.exit(2);
}, ctx.timeoutMs).unref();

if (step === 'setup') {
  await peer.setup(ctx);
} else if (step === 'enqueue') {
  const p = await peer.producer(ctx);
  const payloads = Array.from({ length: ctx.jobs }, (_, i) => ({ i }));
  const started = now();
  for (let i = 0; i < payloads.length; i += ctx.batch) {
    await p.enqueue(payloads.slice(i, i + ctx.batch));
  }
  const enqueueMs = now() - started;
  await p.close();
  emit('RESULT', { enqueueMs });
} else if (step === 'latency') {
  const p = await peer.producer(ctx);
  // One unmeasured job first: connections and prepared paths warm on both sides.
  await p.enqueueOne({ i: -1, t: now(), warm: true });
  await sleep(50);
  for (let i = 0; i < ctx.latencyJobs; i++) {
    await p.enqueueOne({ i, t: now() });
    await sleep(ctx.spacingMs);
  }
  await p.close();
  emit('RESULT', { sent: ctx.latencyJobs });
} else if (step === 'work') {
  let started = 0;
  let firstStart;
  let completed = 0;
  const latencies = [];
  let resolveThroughput;
  const throughputDone = new Promise((resolve) => {
    resolveThroughput = resolve;
  });
  let resolveLatency;
  const latencyDone = new Promise((resolve) => {
    resolveLatency = resolve;
  });
  const expectedTotal = ctx.jobs + ctx.latencyJobs + 1;
  const w = await peer.worker(ctx, {
    concurrency: ctx.concurrency,
    onHandle(payload) {
      const t = now();
      if (payload.t === undefined) {
        started++;
        firstStart ??= t;
      } else if (!payload.warm) {
        latencies.push(t - payload.t);
      }
    },
    onComplete() {
      completed++;
      if (completed === ctx.jobs) resolveThroughput(now());
      if (completed === expectedTotal) resolveLatency();
    },
  });
  const lastComplete = await throughputDone;
  emit('THROUGHPUT', {
    processMs: lastComplete - firstStart,
    started,
    completed,
  });
  // Let the worker settle into its idle wait before the latency jobs arrive.
  await sleep(300);
  process.stdout.write('READY\n');
  await latencyDone;
  await w.stop();
  latencies.sort((a, b) => a - b);
  emit('RESULT', { latencies: latencies.map((l) => Math.round(l * 1000) / 1000), completed });
} else if (step === 'cost') {
  let completed = 0;
  let resolveDone;
  const done = new Promise((resolve) => {
    resolveDone = resolve;
  });
  // From the first handler start, as the throughput: the worker's startup (module loading,
  // connecting) is not a job's cost.
  let cpu;
  let started;
  const w = await peer.worker(ctx, {
    concurrency: ctx.concurrency,
    onHandle() {
      if (started !== undefined) return;
      cpu = process.cpuUsage();
      started = now();
    },
    onComplete() {
      if (++completed === ctx.jobs) resolveDone();
    },
  });
  await done;
  const wallMs = now() - started;
  const used = process.cpuUsage(cpu);
  await w.stop();
  emit('RESULT', { userUs: used.user, systemUs: used.system, wallMs });
} else {
  console.error(`unknown step ${step}`);
  process.exit(1);
}
process.exit(0);
