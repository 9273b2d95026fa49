/** The variable both `bin/app.ts` (the budget it deploys) and `bin/cost.ts` (the estimate's guardrail) read. */
export const BUDGET_VARIABLE = 'AIP_MONTHLY_BUDGET_USD';

/**
 * `AIP_MONTHLY_BUDGET_USD` as USD a month, or undefined when it is unset or blank. A value that is not a positive number
 * ends the process with status 1 and a message naming the variable and the value.
 */
export function readMonthlyBudget(): number | undefined {
  const raw = process.env[BUDGET_VARIABLE];
  const value = (raw ?? '').trim();
  if (value === '') return undefined;
  const usd = Number(value);
  if (!(Number.isFinite(usd) && usd > 0)) {
    console.error(`${BUDGET_VARIABLE} (${JSON.stringify(raw)}) must be a positive number of US dollars a month, like 1500: `
      + 'set it to the monthly budget (the one the estimate at rest must stay within), or leave it unset');
    process.exit(1);
  }
  return usd;
}
