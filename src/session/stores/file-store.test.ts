import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { generateSessionId, sessionHandle } from '../session-id.js';
import type { SessionRecord } from '../session-record.js';
import { CONTRACT_LIFETIME, runSessionStoreContract } from '../session-store.contract.js';
import { FileSessionStore } from './file-store.js';

async function dumpFolder(dir: string): Promise<string> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const contents = await Promise.all(names.map((n) => readFile(join(dir, n), 'utf8')));
  return JSON.stringify({ names, contents });
}

runSessionStoreContract('file', { serverSide: true }, async (lifetime) => {
  const dir = await mkdtemp(join(tmpdir(), 'keel-sessions-'));
  // A folder that does not exist yet: the store creates it on first write.
  const directory = join(dir, 'var', 'sessions');
  return {
    store: new FileSessionStore({ lifetime, directory }),
    dump: () => dumpFolder(directory),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

describe('file session store', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });
  const folder = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keel-sessions-'));
    dirs.push(dir);
    return dir;
  };
  const record = (): SessionRecord => ({
    data: { n: 1 },
    flash: { new: [], old: [] },
    userId: '1',
    ip: null,
    userAgent: null,
    createdAt: Date.now(),
    lastActivity: Date.now(),
  });

  it('writes atomically: concurrent writes leave one whole session and no temp files', async () => {
    const directory = await folder();
    const store = new FileSessionStore({ lifetime: CONTRACT_LIFETIME, directory });
    const id = generateSessionId();
    await Promise.all(
      Array.from({ length: 20 }, (_, n) => store.write(id, { ...record(), data: { n } })),
    );
    const names = await readdir(directory);
    expect(names).toEqual([`${sessionHandle(id)}.json`]);
    const read = await store.read(id);
    expect(typeof read?.record.data.n).toBe('number');
  });

  it('reads a corrupt or foreign file as no session, and gc removes it', async () => {
    const directory = await folder();
    const store = new FileSessionStore({ lifetime: CONTRACT_LIFETIME, directory });
    const id = generateSessionId();
    await store.write(id, record());
    await writeFile(join(directory, `${sessionHandle(id)}.json`), '{"data": [trunc');
    expect(await store.read(id)).toBeUndefined();
    const other = generateSessionId();
    await writeFile(join(directory, `${sessionHandle(other)}.json`), '{"data":"not a record"}');
    await writeFile(join(directory, 'README.txt'), 'not a session');
    expect(await store.read(other)).toBeUndefined();
    expect(await store.gc(Date.now())).toBe(2);
    expect(await readdir(directory)).toEqual(['README.txt']);
  });

  it('answers for a folder that does not exist', async () => {
    const store = new FileSessionStore({
      lifetime: CONTRACT_LIFETIME,
      directory: join(await folder(), 'missing'),
    });
    expect(await store.forUser('1', Date.now())).toEqual([]);
    expect(await store.gc(Date.now())).toBe(0);
    expect(await store.countActive(Date.now())).toBe(0);
  });
});
