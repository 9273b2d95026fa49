/**
 * Writes the cost report of a synthesized cloud assembly: `dist/cost-report.md` and `dist/cost-report.json`, from every
 * CloudFormation stack `cdk.out/manifest.json` lists, and prints the two monthly totals (at rest, at most) on one line.
 * Part of `npm run synth`, after `cdk synth`. Run with `npx tsx bin/cost.ts [assemblyDir] [outputDir]` (defaults:
 * `cdk.out`, `dist`).
 *
 * Guardrail: with `AIP_MONTHLY_BUDGET_USD` set (USD a month), the script exits with status 1 when the estimate at rest
 * exceeds it, and warns when the estimate at most (autoscaling maxima) does, and when lines it could not price or
 * resources of types it does not know are left out of the figure it checks. A value that is not a positive number
 * fails. The report is written either way.
 *
 * The same checks run against every monthly cost budget the stacks define (`AWS::Budgets::Budget`, as `CostBudget` makes):
 * the estimate at rest above one fails, at most above one warns. A budget with a filter (`costFilter`, or `CostFilters` /
 * `FilterExpression` in the template) tracks only part of the account's cost: a note names it, and it is not checked.
 *
 * `AIP_INSTANCE_PRICES` gives hourly prices the estimate lacks or that you pay instead (`CostEstimateOptions.instancePrices`),
 * as `name=usdPerHour` pairs separated by commas, e.g. `AIP_INSTANCE_PRICES=ml.c6i.large=0.119,m7i.large=0.09` (placeholder figures).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CostEstimate } from '../constructs/cost/cost-estimate';
import { countByType, usd } from '../constructs/cost/private/report-format';
import { PlatformError } from '../lib/private/errors';
import { BUDGET_VARIABLE, readMonthlyBudget } from './private/monthly-budget';

const root = path.join(__dirname, '..');
const assemblyDir = path.resolve(process.argv[2] ?? path.join(root, 'cdk.out'));
const outdir = path.resolve(process.argv[3] ?? path.join(root, 'dist'));
const budget = readMonthlyBudget();

const PRICES_VARIABLE = 'AIP_INSTANCE_PRICES';
const instancePrices: Record<string, number> = {};
for (const pair of (process.env[PRICES_VARIABLE] ?? '').split(',').map((p) => p.trim()).filter((p) => p !== '')) {
  const m = /^([^=\s]+)=([^=\s]+)$/.exec(pair);
  if (!m) {
    console.error(`${PRICES_VARIABLE} holds ${JSON.stringify(pair)}, which is no name=usdPerHour pair: write pairs such as `
      + 'ml.c6i.large=0.119, separated by commas');
    process.exit(1);
  }
  instancePrices[m[1]] = Number(m[2]);
}

let estimate: CostEstimate;
try {
  estimate = CostEstimate.fromCloudAssembly(assemblyDir, { instancePrices });
} catch (e) {
  // A missing or malformed assembly: the message names it; a stack trace adds nothing.
  if (!(e instanceof PlatformError)) throw e;
  console.error(e.prop.startsWith('instancePrices') ? `${PRICES_VARIABLE}: ${e.message}` : e.message);
  process.exit(1);
}

fs.mkdirSync(outdir, { recursive: true });
const markdownFile = path.join(outdir, 'cost-report.md');
const jsonFile = path.join(outdir, 'cost-report.json');
fs.writeFileSync(markdownFile, estimate.toMarkdown());
fs.writeFileSync(jsonFile, `${JSON.stringify(estimate.toJSON(), null, 2)}\n`);

const unpriced = estimate.unpriced.length;
const unknownResources = estimate.unknown;
const unknown = (n: number) => (n === 1 ? '1 resource of a type' : `${n} resources of types`) + ' the estimate does not know';
const left = [
  ...(unpriced > 0 ? [`${unpriced} unpriced ${unpriced === 1 ? 'line' : 'lines'}`] : []),
  ...(unknownResources.length > 0 ? [unknown(unknownResources.length)] : []),
];
const relative = (file: string) => path.relative(process.cwd(), file) || file;
console.log(`cost estimate: ${usd(estimate.monthlyUsdAtRest)}/month at rest, ${usd(estimate.monthlyUsdAtMost)}/month at most`
  + `${left.length > 0 ? ` (${left.join(' and ')} not included)` : ''}; wrote ${relative(markdownFile)}, ${relative(jsonFile)}`);

// The budgets to check the estimate against: the variable's, and every monthly cost budget without a filter that the
// stacks define (a CostBudget's). Such a budget tracks the whole account, so an estimate at rest above one will exceed it.
// bin/app.ts makes a budget of AIP_MONTHLY_BUDGET_USD in the reference platform: that one is checked once, by its name.
// A filtered budget (a cost allocation tag, say) tracks costs the estimate cannot tell apart: it is named, not checked.
const budgetLabel = (b: { stackName: string; logicalId: string; budgetName?: string }) =>
  `the budget ${b.stackName}/${b.logicalId}${b.budgetName ? ` (${b.budgetName})` : ''}`;
const accountWide = estimate.budgets.filter((b) => b.filter === undefined);
for (const b of estimate.budgets) {
  if (b.filter === undefined) continue;
  console.log(`note: ${budgetLabel(b)} (${usd(b.monthlyUsd)}/month) tracks only costs filtered by ${b.filter}: `
    + 'the estimate is not checked against it');
}
const budgets = [
  ...(budget !== undefined && !accountWide.some((b) => b.monthlyUsd === budget) ? [{ name: BUDGET_VARIABLE, monthlyUsd: budget }] : []),
  ...accountWide.map((b) => ({ name: budgetLabel(b), monthlyUsd: b.monthlyUsd })),
];
if (budgets.length > 0) {
  const checked = budgets.length === 1 ? budgets[0].name : 'the budgets';
  if (unpriced > 0) {
    console.warn(`warning: ${unpriced} unpriced ${unpriced === 1 ? 'line is' : 'lines are'} not in the estimate checked against ${checked}: see ${relative(markdownFile)}`);
  }
  if (unknownResources.length > 0) {
    console.warn(`warning: ${unknown(unknownResources.length)} (${countByType(unknownResources)}) `
      + `${unknownResources.length === 1 ? 'is' : 'are'} not in the estimate checked against ${checked}, and may bill: see ${relative(markdownFile)}`);
  }
}
for (const { name, monthlyUsd } of budgets) {
  if (estimate.monthlyUsdAtRest > monthlyUsd) {
    console.error(`the estimate at rest, ${usd(estimate.monthlyUsdAtRest)}/month, exceeds ${name} (${usd(monthlyUsd)}/month): `
      + `lower the minimum capacity (node groups' minSize, endpoint minimum instances) or raise the budget; see ${relative(markdownFile)}`);
    process.exitCode = 1;
  } else if (estimate.monthlyUsdAtMost > monthlyUsd) {
    console.warn(`warning: at its autoscaling maxima the estimate is ${usd(estimate.monthlyUsdAtMost)}/month, above ${name} `
      + `(${usd(monthlyUsd)}/month); at rest it is ${usd(estimate.monthlyUsdAtRest)}/month`);
  }
}
