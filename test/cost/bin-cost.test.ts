import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as kms from 'aws-cdk-lib/aws-kms';
import { BudgetCostFilter, CostBudget } from '../../constructs/cost';
import { TEST_CONTEXT } from '../helpers';

// `bin/cost.ts` (the last step of `npm run synth`) reads a cloud assembly and writes the cost report; with
// AIP_MONTHLY_BUDGET_USD it is a guardrail. Here it runs on a small assembly: a KMS key ($1.00) and an Elastic IP
// ($3.65) bill at rest, $4.65 a month; at most, a node group of 0-1 t3.medium adds $30.37 and its 20 GiB disk $2.00.
const REPO = path.join(__dirname, '..', '..');
const assembly = fs.mkdtempSync(path.join(os.tmpdir(), 'aip-bin-cost-assembly-'));
const app = new App({ outdir: assembly, context: TEST_CONTEXT });
const stack = new Stack(app, 'Small');
new kms.Key(stack, 'Key');
new ec2.CfnEIP(stack, 'Ip', { domain: 'vpc' });
new eks.CfnNodegroup(stack, 'Nodes', {
  clusterName: 'c', nodeRole: 'arn:aws:iam::123456789012:role/nodes', subnets: ['subnet-12345678'], instanceTypes: ['t3.medium'],
  scalingConfig: { minSize: 0, desiredSize: 0, maxSize: 1 },
});
app.synth();

function runCost(env: Record<string, string>, dir = assembly): { status: number | null; stdout: string; stderr: string; out: string } {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'aip-bin-cost-out-'));
  const clean = { ...process.env };
  for (const key of Object.keys(clean)) if (key.startsWith('AIP_')) delete clean[key];
  const result = spawnSync(process.execPath, [path.join(REPO, 'node_modules', 'tsx', 'dist', 'cli.mjs'), path.join(REPO, 'bin', 'cost.ts'), dir, out], {
    cwd: REPO, env: { ...clean, ...env }, encoding: 'utf8',
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, out };
}

describe('bin/cost.ts', () => {
  test('writes cost-report.md and cost-report.json and prints both totals on one line', () => {
    const { status, stdout, stderr, out } = runCost({});
    expect(status).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toMatch(/^cost estimate: \$4\.65\/month at rest, \$37\.02\/month at most; wrote .*cost-report\.md, .*cost-report\.json\n$/);
    expect(fs.readFileSync(path.join(out, 'cost-report.md'), 'utf8')).toContain('**At rest: $4.65**');
    const json = JSON.parse(fs.readFileSync(path.join(out, 'cost-report.json'), 'utf8'));
    expect(json).toMatchObject({ monthlyUsdAtRest: 4.65, monthlyUsdAtMost: 37.02, stacks: [{ stackName: 'Small' }] });
  });

  test('an estimate at rest above AIP_MONTHLY_BUDGET_USD fails, naming the variable, the budget and the estimate, after writing the report', () => {
    const { status, stderr, out } = runCost({ AIP_MONTHLY_BUDGET_USD: '4' });
    expect(status).toBe(1);
    expect(stderr).toMatch(/the estimate at rest, \$4\.65\/month, exceeds AIP_MONTHLY_BUDGET_USD \(\$4\.00\/month\)/);
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(fs.readdirSync(out).sort()).toEqual(['cost-report.json', 'cost-report.md']);
  });

  test('a budget the estimate at rest stays within passes, with a warning when the autoscaling maxima exceed it', () => {
    const { status, stderr } = runCost({ AIP_MONTHLY_BUDGET_USD: '10' });
    expect(status).toBe(0);
    expect(stderr.trim()).toBe('warning: at its autoscaling maxima the estimate is $37.02/month, above AIP_MONTHLY_BUDGET_USD ($10.00/month); at rest it is $4.65/month');
  });

  test('AIP_INSTANCE_PRICES gives hourly prices by instance type; a malformed pair or price fails, naming the variable', () => {
    const priced = runCost({ AIP_INSTANCE_PRICES: ' t3.medium=0.05 , ml.c6i.large=0.119' });
    expect(priced.status).toBe(0);
    // At most: $4.65 + one t3.medium at $0.05/h ($36.50) + its $2.00 disk.
    expect(priced.stdout).toMatch(/^cost estimate: \$4\.65\/month at rest, \$43\.15\/month at most; /);
    for (const [value, message] of [
      ['t3.medium', 'AIP_INSTANCE_PRICES holds "t3.medium", which is no name=usdPerHour pair'],
      ['t3.medium=abc', 'AIP_INSTANCE_PRICES: \'instancePrices["t3.medium"]\' (NaN) must be a positive number of USD per hour'],
    ]) {
      const { status, stderr } = runCost({ AIP_INSTANCE_PRICES: value });
      expect(status).toBe(1);
      expect(stderr).toContain(message);
      expect(stderr).not.toMatch(/\n\s+at /);
    }
  });

  test('an AIP_MONTHLY_BUDGET_USD that is not a positive number fails, naming the variable and the value', () => {
    for (const value of ['abc', '-5']) {
      const { status, stderr, out } = runCost({ AIP_MONTHLY_BUDGET_USD: value });
      expect(status).toBe(1);
      expect(stderr).toContain(`AIP_MONTHLY_BUDGET_USD (${JSON.stringify(value)}) must be a positive number of US dollars a month`);
      expect(fs.readdirSync(out)).toEqual([]);
    }
  });

  test('with a budget, resources of types the estimate does not know are named in a warning: they may bill', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aip-bin-cost-unknown-'));
    fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ version: '1', artifacts: { Db: { type: 'aws:cloudformation:stack', properties: { templateFile: 'Db.template.json' } } } }));
    fs.writeFileSync(path.join(dir, 'Db.template.json'), JSON.stringify({ Resources: { Db: { Type: 'AWS::RDS::DBInstance', Properties: { DBInstanceClass: 'db.r6g.4xlarge' } } } }));
    const { status, stdout, stderr } = runCost({ AIP_MONTHLY_BUDGET_USD: '100' }, dir);
    expect(status).toBe(0);
    expect(stdout).toMatch(/\$0\.00\/month at rest.*\(1 resource of a type the estimate does not know not included\)/);
    expect(stderr.trim()).toMatch(/^warning: 1 resource of a type the estimate does not know \(AWS::RDS::DBInstance × 1\) is not in the estimate checked against AIP_MONTHLY_BUDGET_USD, and may bill: see .*cost-report\.md$/);
  });

  test('a monthly cost budget the stacks define (CostBudget) is a guardrail too: exceeded at rest it fails, at most it warns', () => {
    const write = (limit: number) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aip-bin-cost-budget-'));
      const budgeted = new App({ outdir: dir, context: TEST_CONTEXT });
      const s = new Stack(budgeted, 'Budgeted');
      new kms.Key(s, 'Key'); // $1.00 a month
      new eks.CfnNodegroup(s, 'Nodes', {
        clusterName: 'c', nodeRole: 'arn:aws:iam::123456789012:role/nodes', subnets: ['subnet-12345678'], instanceTypes: ['t3.medium'],
        scalingConfig: { minSize: 0, desiredSize: 0, maxSize: 1 },
      });
      new CostBudget(s, 'Budget', { monthlyLimitUsd: limit, budgetName: 'ml-platform' });
      budgeted.synth();
      return dir;
    };
    const over = runCost({}, write(0.5));
    expect(over.status).toBe(1);
    expect(over.stderr).toMatch(/the estimate at rest, \$1\.00\/month, exceeds the budget Budgeted\/Budget[0-9A-F]{8} \(ml-platform\) \(\$0\.50\/month\)/);
    expect(fs.readFileSync(path.join(over.out, 'cost-report.md'), 'utf8')).toMatch(/## Budgets[\s\S]*\| \$0\.50 \| 200 % \(over\) \|/);
    const within = runCost({}, write(10));
    expect(within.status).toBe(0);
    expect(within.stderr.trim()).toMatch(/^warning: at its autoscaling maxima the estimate is \$33\.37\/month, above the budget Budgeted\/Budget[0-9A-F]{8} \(ml-platform\) \(\$10\.00\/month\); at rest it is \$1\.00\/month$/);
    // The variable and the stacks' budget are each checked.
    const both = runCost({ AIP_MONTHLY_BUDGET_USD: '0.9' }, write(10));
    expect(both.status).toBe(1);
    expect(both.stderr).toMatch(/exceeds AIP_MONTHLY_BUDGET_USD \(\$0\.90\/month\)/);
    expect(both.stderr).toMatch(/above the budget Budgeted\/Budget/);
  });

  test('a budget filtered on a cost allocation tag is not checked against the whole estimate: a note says so', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aip-bin-cost-filtered-'));
    const filtered = new App({ outdir: dir, context: TEST_CONTEXT });
    const s = new Stack(filtered, 'Filtered');
    new kms.Key(s, 'Key'); // $1.00 a month
    new CostBudget(s, 'Budget', { monthlyLimitUsd: 0.5, costFilter: BudgetCostFilter.tag('team', ['ml-platform']) });
    filtered.synth();
    const alone = runCost({}, dir);
    expect(alone.status).toBe(0);
    expect(alone.stderr).toBe('');
    expect(alone.stdout).toMatch(/note: the budget Filtered\/Budget[0-9A-F]{8} \(\$0\.50\/month\) tracks only costs filtered by TagKeyValue user:team\$ml-platform: the estimate is not checked against it/);
    // AIP_MONTHLY_BUDGET_USD of the same amount is still checked: it is not that budget.
    const variable = runCost({ AIP_MONTHLY_BUDGET_USD: '0.5' }, dir);
    expect(variable.status).toBe(1);
    expect(variable.stderr).toMatch(/exceeds AIP_MONTHLY_BUDGET_USD \(\$0\.50\/month\)/);
  });

  test('an assembly it cannot read (a template file missing) fails with the reason and no stack trace', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aip-bin-cost-broken-'));
    fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ version: '1', artifacts: { S: { type: 'aws:cloudformation:stack', properties: { templateFile: 'S.template.json' } } } }));
    const { status, stderr, out } = runCost({}, dir);
    expect(status).toBe(1);
    expect(stderr).toMatch(/the manifest lists stack S with the template S\.template\.json, which is not there/);
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(fs.readdirSync(out)).toEqual([]);
  });
});
