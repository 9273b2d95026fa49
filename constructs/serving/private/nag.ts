import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';

/**
 * Acknowledges, one finding at a time, the cdk-nag `AwsSolutions-IAM5` (wildcard) findings of a policy
 * this library wrote, each with the reason given for the statement's `Sid`. Findings are named the way
 * cdk-nag names them (`Action::x:Y*`, `Resource::<Logical.Arn>/prefix/*`), so a wildcard added later,
 * or one in a statement without a reason, is still reported. Needs no dependency on cdk-nag: the
 * acknowledgements are CDK validation metadata.
 */
export function acknowledgeWildcards(policy: iam.Policy, reasons: { [sid: string]: string }): void {
  const doc = Stack.of(policy).resolve(policy.document) as { Statement?: Array<Record<string, unknown>> };
  const seen = new Set<string>();
  for (const statement of doc.Statement ?? []) {
    const reason = reasons[String(statement.Sid)];
    if (!reason) continue;
    const findings = [
      ...asArray(statement.Action).map((a) => `Action::${flatten(a)}`),
      ...asArray(statement.Resource).map((r) => `Resource::${flatten(r)}`),
    ].filter((f) => f.includes('*'));
    for (const finding of findings) {
      const id = `AwsSolutions-IAM5[${finding}]`;
      if (seen.has(id)) continue;
      seen.add(id);
      Validations.of(policy).acknowledge({ id, reason });
    }
  }
}

function asArray(value: unknown): unknown[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** cdk-nag's rendering of a CloudFormation value: Ref and GetAtt in angle brackets, joins concatenated. */
function flatten(node: unknown): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
  const n = node as Record<string, unknown>;
  if (n['Fn::Join']) {
    const [delimiter, items] = n['Fn::Join'] as [string, unknown[]];
    return items.map(flatten).join(delimiter);
  }
  if (n['Fn::Sub']) return flatten(n['Fn::Sub']);
  if (n['Fn::GetAtt']) {
    const [resource, attribute] = n['Fn::GetAtt'] as [unknown, unknown];
    return `<${flatten(resource)}.${flatten(attribute)}>`;
  }
  if (n['Fn::ImportValue']) return flatten(n['Fn::ImportValue']);
  if (n.Ref) return `<${flatten(n.Ref)}>`;
  return JSON.stringify(node);
}
