import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

// `bin/app.ts`, the CDK app `npm run synth` runs: the reference platform, with a cost budget when
// AIP_MONTHLY_BUDGET_USD is set.
const REPO = path.join(__dirname, '..', '..');

function runApp(env: Record<string, string>): { status: number | null; stderr: string; outdir: string } {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'aip-bin-app-'));
  const clean = { ...process.env };
  for (const key of Object.keys(clean)) if (key.startsWith('AIP_')) delete clean[key];
  const result = spawnSync(process.execPath, [path.join(REPO, 'node_modules', 'tsx', 'dist', 'cli.mjs'), path.join(REPO, 'bin', 'app.ts')], {
    cwd: REPO, env: { ...clean, CDK_OUTDIR: outdir, ...env }, encoding: 'utf8',
  });
  return { status: result.status, stderr: result.stderr, outdir };
}

describe('bin/app.ts', () => {
  test('AIP_MONTHLY_BUDGET_USD gives the platform a monthly cost budget, whose alerts AIP_BUDGET_EMAILS get', () => {
    const { status, stderr, outdir } = runApp({ AIP_MONTHLY_BUDGET_USD: '2500', AIP_BUDGET_EMAILS: ' finops@example.com, oncall@example.com ' });
    expect({ status, stderr: stderr.split('\n').filter((l) => /budget|error/i.test(l)) }).toEqual({ status: 0, stderr: [] });
    const template = JSON.parse(fs.readFileSync(path.join(outdir, 'AiPlatform.template.json'), 'utf8'));
    const budgets = Object.values<{ Type: string; Properties: { Budget: unknown; NotificationsWithSubscribers: Array<{ Subscribers: unknown[] }> } }>(template.Resources)
      .filter((r) => r.Type === 'AWS::Budgets::Budget');
    expect(budgets).toHaveLength(1);
    expect(budgets[0].Properties.Budget).toMatchObject({ BudgetType: 'COST', TimeUnit: 'MONTHLY', BudgetLimit: { Amount: 2500, Unit: 'USD' } });
    expect(budgets[0].Properties.NotificationsWithSubscribers[0].Subscribers).toEqual(expect.arrayContaining([
      { SubscriptionType: 'EMAIL', Address: 'finops@example.com' }, { SubscriptionType: 'EMAIL', Address: 'oncall@example.com' },
    ]));
  });

  test.each([
    [{ AIP_MONTHLY_BUDGET_USD: 'abc' }, 'AIP_MONTHLY_BUDGET_USD ("abc") must be a positive number of US dollars a month'],
    [{ AIP_BUDGET_EMAILS: 'finops@example.com' }, 'AIP_BUDGET_EMAILS is set but AIP_MONTHLY_BUDGET_USD is not'],
    [{ AIP_MONTHLY_BUDGET_USD: '100', AIP_BUDGET_EMAILS: 'finops' }, '[AiPlatform/Budget] \'emails[0]\' ("finops") must be an email address'],
  ])('%j fails naming the variable or the prop, with no stack trace and no template', (env, message) => {
    const { status, stderr, outdir } = runApp(env);
    expect(status).toBe(1);
    expect(stderr).toContain(message);
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(fs.existsSync(path.join(outdir, 'AiPlatform.template.json'))).toBe(false);
  });
});
