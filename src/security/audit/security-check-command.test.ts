import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateAppKey } from '../../kernel/index.js';
import {
  ENV_KEYS,
  makeFixtureApp,
  removeFixtureApp,
  runKeel,
} from '../../modules/commands/__fixtures__/cli-fixture.js';
import type { AuditReport } from './audit-report.js';

const roots: string[] = [];

beforeAll(() => {
  for (const key of ENV_KEYS) vi.stubEnv(key, undefined);
});
afterEach(async () => {
  await Promise.all(roots.splice(0).map(removeFixtureApp));
});

async function fixture(env: string, files: Record<string, string> = {}): Promise<string> {
  const root = await makeFixtureApp({ '.env': env, ...files });
  roots.push(root);
  return root;
}

describe('keel security:check', () => {
  it('exits 1 on a critical finding and prints the report as JSON', async () => {
    // The fixture's key is 32 zero bytes: a placeholder, not a secret.
    const root = await fixture(
      `APP_ENV=development\nAPP_KEY=base64:${Buffer.alloc(32).toString('base64')}\n`,
    );
    const result = await runKeel(root, 'security:check', '--json');
    expect(result.code).toBe(1);
    const report = result.json<AuditReport>();
    expect(report.passed).toBe(false);
    expect(report.findings).toContainEqual(
      expect.objectContaining({ id: 'app-key-weak', severity: 'critical', subject: 'APP_KEY' }),
    );
  });

  it('audits as production with --production, and writes a Markdown report', async () => {
    const root = await fixture(
      `APP_ENV=development\nAPP_DEBUG=true\nAPP_KEY=${generateAppKey()}\n`,
      {
        'config/security.ts': `export default { cors: { origins: '*' } };\n`,
      },
    );
    const dev = await runKeel(root, 'security:check', '--json');
    expect(dev.code, dev.stdout + dev.stderr).toBe(0);
    expect(dev.json<AuditReport>().findings.map((f) => f.id)).toEqual(['cors-wildcard']);

    const prod = await runKeel(root, 'security:check', '--production', '--report', 'audit.md');
    expect(prod.code).toBe(1);
    expect(prod.stderr + prod.stdout).toContain('debug-in-production');
    const markdown = readFileSync(join(root, 'audit.md'), 'utf8');
    expect(markdown).toContain('# Security check: Fixture');
    expect(markdown).toContain('**Failed**');
    expect(markdown).toMatch(/\| `debug-in-production` \| APP_DEBUG \|/);
    expect(markdown).toMatch(/\| `https-not-enforced` \|/);
  });
});
