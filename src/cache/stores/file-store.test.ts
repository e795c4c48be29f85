import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCacheStoreContract } from '../cache-store.contract.js';
import { FileStore } from './file-store.js';

runCacheStoreContract('file', async ({ now, maxValueBytes }) => {
  const directory = await mkdtemp(join(tmpdir(), 'keel-cache-'));
  return {
    store: new FileStore({ directory, now, maxValueBytes }),
    cleanup: () => rm(directory, { recursive: true, force: true }),
  };
});

describe('FileStore files', () => {
  it('names files by hash, keeps hostile keys inside its folder and leaves no temp files', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'keel-cache-'));
    try {
      const store = new FileStore({ directory });
      await store.set('../../escape', 1, undefined);
      await Promise.all(Array.from({ length: 20 }, (_, i) => store.set('same', i, undefined)));
      const shards = await readdir(directory);
      expect(shards.every((s) => /^[0-9a-f]{2}$/.test(s))).toBe(true);
      const files = (await Promise.all(shards.map((s) => readdir(join(directory, s))))).flat();
      expect(files).toHaveLength(2);
      expect(files.every((f) => /^[0-9a-f]{64}$/.test(f))).toBe(true);
      expect(await store.get('../../escape')).toBe(1);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('reads a corrupt or foreign file as missing', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'keel-cache-'));
    try {
      const store = new FileStore({ directory });
      await store.set('k', 'v', undefined);
      const [shard] = await readdir(directory);
      const [file] = await readdir(join(directory, shard!));
      await writeFile(join(directory, shard!, file!), 'garbage');
      expect(await store.get('k')).toBeUndefined();
      await writeFile(join(directory, shard!, file!), '0\n"other-key"\n1');
      expect(await store.get('k')).toBeUndefined();
      expect(await store.gc()).toBe(0);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
