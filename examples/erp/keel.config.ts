import { defineApp } from 'keel';

export default defineApp({
  name: 'Keel ERP',
  version: '0.1.0',
  modules: 'modules',
  config: 'config',
  shutdownTimeout: '10s',
});
