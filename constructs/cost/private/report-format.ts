/** Formatting the cost report and `bin/cost.ts` share. */

const USD = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** USD with cents and thousands separators: `$1,012.25`. */
export function usd(value: number): string {
  return `$${USD.format(value)}`;
}

/** The number without the dollar sign, for table cells; empty when undefined. */
export function money(value: number | undefined): string {
  return value === undefined ? '' : USD.format(value);
}

/** How many lines there are of each resource type: `AWS::Foo::Bar × 1, Custom::X × 2`. */
export function countByType(items: ReadonlyArray<{ readonly resourceType: string }>): string {
  const counts = new Map<string, number>();
  for (const i of items) counts.set(i.resourceType, (counts.get(i.resourceType) ?? 0) + 1);
  return [...counts.entries()].map(([t, n]) => `${t} × ${n}`).join(', ');
}
