// The framework tables' names, apart from their migrations so that naming a table loads no
// Kysely (the provider imports these at register; the migrations load when `migrate` runs).

/** API tokens (see migrations/create-api-tokens-table.ts). */
export const API_TOKENS_TABLE = 'api_tokens';
export const ROLES_TABLE = 'roles';
export const PERMISSIONS_TABLE = 'permissions';
export const ROLE_USER_TABLE = 'role_user';
export const PERMISSION_ROLE_TABLE = 'permission_role';
