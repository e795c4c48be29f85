import { defineModule } from 'keel';

export default defineModule({
  name: 'accounts',
  version: '1.0.0',
  description: 'Users, login (web sessions and API tokens), roles and permissions',
  routes: () => import('./routes.js'),
  migrations: 'migrations',
  seeders: 'seeders',
  views: 'views',
});
