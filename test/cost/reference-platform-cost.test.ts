import * as fs from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { CostEstimate, CostLineItem, CostStatus } from '../../constructs/cost';
import { AiPlatformStack } from '../../lib/ai-platform-stack';
import { TEST_CONTEXT } from '../helpers';

// The README's "What the reference platform costs at rest" is a hand-written table; the estimate computes the same
// figures from the synthesized template. Each row's $/month is compared with the estimate's lines, so a change of a
// default, a price or the README that makes them disagree fails here.
describe('the cost estimate of the reference platform agrees with the README', () => {
  const app = new App({ context: TEST_CONTEXT });
  const stack = new AiPlatformStack(app, 'Platform');
  const estimate = CostEstimate.fromTemplates([{ stackName: 'Platform', template: Template.fromStack(stack).toJSON() }]);

  const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
  const heading = '### What the reference platform costs at rest';
  const start = readme.indexOf(heading);
  const section = start < 0 ? '' : readme.slice(start, readme.indexOf('\n## ', start));
  /** The last cell of the README table row whose first cell is `what`. */
  const readmeFigure = (what: string): string => {
    const row = section.split('\n').find((l) => l.startsWith(`| ${what} |`));
    if (!row) throw new Error(`the README's cost table has no row "${what}"`);
    const cells = row.split('|').map((c) => c.trim());
    return cells[cells.length - 2];
  };
  const atRest = (items: CostLineItem[]) => Math.round(items.reduce((a, i) => a + (i.monthlyUsdAtRest ?? 0) * 100, 0)) / 100;
  const of = (type: string, match: RegExp = /./) => estimate.items.filter((i) => i.resourceType === type && match.test(i.description) && i.status === CostStatus.PRICED);

  test.each([
    ['Inference node group', () => of('AWS::EKS::Nodegroup', /node group "inference"/)],
    ['EKS control plane', () => of('AWS::EKS::Cluster')],
    ['NAT gateway', () => of('AWS::EC2::NatGateway')],
    ['EBS root volumes', () => of('AWS::EKS::Nodegroup', /^EBS volumes/)],
    ['Public IPv4 address', () => of('AWS::EC2::EIP')],
    ['KMS key', () => of('AWS::KMS::Key')],
    ['CloudWatch alarms', () => of('AWS::CloudWatch::Alarm')],
  ])('the row "%s" is what the estimate computes', (what, lines) => {
    const items = lines();
    expect(items.length).toBeGreaterThan(0);
    expect(readmeFigure(what)).toBe(atRest(items).toFixed(2));
  });

  test('the row "System node group" (≈ whole dollars) is the two m7i.large nodes', () => {
    const items = of('AWS::EKS::Nodegroup', /node group "system".*m7i\.large/);
    expect(items).toHaveLength(1);
    expect(items[0].quantityAtRest).toBe(2);
    expect(readmeFigure('System node group')).toBe(`≈${Math.round(atRest(items))}`);
  });

  test('the SageMaker endpoint\'s two ml.c6i.large are unpriced, as the README says, and the training group costs nothing at rest', () => {
    expect(readmeFigure('SageMaker endpoint')).toBe('at SageMaker\'s hosting rate');
    expect(estimate.unpriced).toHaveLength(1);
    expect(estimate.unpriced[0]).toMatchObject({ resourceType: 'AWS::SageMaker::EndpointConfig', quantityAtRest: 2, quantityAtMost: 6 });
    expect(estimate.unpriced[0].description).toContain('ml.c6i.large');
    expect(atRest(of('AWS::EKS::Nodegroup', /"training"/))).toBe(0);
  });

  test('every priced line at rest has a README row, and the README\'s total is the estimate\'s', () => {
    const rows = ['Inference node group', 'System node group', 'EKS control plane', 'NAT gateway', 'EBS root volumes', 'Public IPv4 address', 'KMS key', 'CloudWatch alarms'];
    const readmeSum = rows.map(readmeFigure).reduce((a, f) => a + Number(f.replace('≈', '')), 0);
    // Only the system group's row is rounded (to whole dollars).
    expect(Math.abs(readmeSum - estimate.monthlyUsdAtRest)).toBeLessThan(0.5);
    const about = /That is about \$([\d,]+) a month plus the two SageMaker instances/.exec(section);
    expect(about).not.toBeNull();
    expect(Number(about![1].replace(',', ''))).toBe(Math.round(estimate.monthlyUsdAtRest / 10) * 10);
  });
});
