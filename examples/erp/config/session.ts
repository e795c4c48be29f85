import { env } from 'keel';

// Sessions in the database (the framework `sessions` table): shared by every process, and
// listed on the account page. SESSION_DRIVER=redis scales out; `file` needs no table.
export default {
  driver: env('SESSION_DRIVER', 'database'),
  absoluteLifetime: '12h',
};
