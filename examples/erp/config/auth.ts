// Who is signed in: pages use the session (`web`), the API bearer tokens (`api`).
// Users are rows of the accounts module's `users` table, found by e-mail at login.
export default {
  default: 'web',
  guards: {
    web: { driver: 'session' },
    api: { driver: 'token' },
  },
  users: { table: 'users', identifiers: ['email'] },
  loginRoute: '/login',
};
