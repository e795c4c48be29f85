import { defineConfig } from 'keel';

export default defineConfig({
  currency: 'EUR',
  pageSize: 50,
});
