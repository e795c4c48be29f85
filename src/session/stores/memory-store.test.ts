import { runSessionStoreContract } from '../session-store.contract.js';
import { MemorySessionStore } from './memory-store.js';

runSessionStoreContract('memory', { serverSide: true }, async (lifetime) => {
  const sessions = new Map<string, string>();
  return {
    store: new MemorySessionStore({ lifetime, sessions }),
    dump: async () => JSON.stringify([...sessions]),
  };
});
