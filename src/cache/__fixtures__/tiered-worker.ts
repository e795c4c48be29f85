// A second process for the tiered-store test: a TieredStore (memory L1, Redis L2, Redis
// bus) driven by JSON lines on stdin, answering one JSON line per command on stdout.
//   {"op":"get","key":"k"} → {"value":...}   {"op":"l1","key":"k"} → {"value":...} (L1 only)
//   {"op":"set","key":"k","value":...}       {"op":"close"}
import { createInterface } from 'node:readline';
import { MemoryStore } from '../stores/memory-store.js';
import { RedisInvalidationBus } from '../stores/redis-invalidation-bus.js';
import { RedisStore } from '../stores/redis-store.js';
import { TieredStore } from '../stores/tiered-store.js';

const url = process.env.TIER_TEST_URL ?? 'redis://127.0.0.1:6379';
const channel = process.env.TIER_TEST_CHANNEL ?? 'keel:test:tier';
const l2 = await RedisStore.connect({ url });
const store = new TieredStore({
  l1: new MemoryStore(),
  l2,
  bus: RedisInvalidationBus.connect({ url, channel }),
});
await store.ready();
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);

for await (const line of createInterface({ input: process.stdin })) {
  const command = JSON.parse(line) as { op: string; key?: string; value?: unknown };
  const key = command.key ?? '';
  if (command.op === 'get') {
    const value = await store.get(key);
    process.stdout.write(`${JSON.stringify({ value: value ?? null })}\n`);
  } else if (command.op === 'l1') {
    const value = store.l1.get(key);
    process.stdout.write(
      `${JSON.stringify({ value: typeof value === 'symbol' ? 'absent' : (value ?? null) })}\n`,
    );
  } else if (command.op === 'set') {
    await store.set(key, command.value, undefined);
    process.stdout.write(`${JSON.stringify({ ok: true })}\n`);
  } else if (command.op === 'close') {
    await store.close();
    await l2.close();
    process.stdout.write(`${JSON.stringify({ ok: true })}\n`);
    break;
  }
}
process.exit(0);
