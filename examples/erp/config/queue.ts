import { defineQueueConfig } from 'keel/queue';

// The demo queues on its SQLite database (QUEUE_CONNECTION overrides). `npm start` runs a
// worker and the scheduler inside the server process; `keel queue:work` runs them apart.
export default defineQueueConfig({
  worker: { queues: ['invoices', 'default', 'reports'], concurrency: 4 },
});
