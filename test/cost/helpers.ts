import { CostEstimate, CostLineItem } from '../../constructs/cost';

/** Hours in the estimate's month. */
export const H = 730;

/** Rounded to cents, as the estimate rounds each line. */
export const cents = (x: number) => Math.round(x * 100) / 100;

/** The one line of `logicalId` whose description matches. */
export function line(e: CostEstimate, logicalId: string, match: RegExp = /./): CostLineItem {
  const found = e.items.filter((i) => i.logicalId === logicalId && match.test(i.description));
  expect(found).toHaveLength(1);
  return found[0];
}

/** An `AWS::EKS::Nodegroup` with the required properties and these. */
export function nodegroup(props: Record<string, unknown>) {
  return { Type: 'AWS::EKS::Nodegroup', Properties: { ClusterName: 'c', NodeRole: 'r', Subnets: ['s'], ...props } };
}
