import { Annotations } from 'aws-cdk-lib';
import { Chart, Testing } from 'cdk8s';
import { Construct } from 'constructs';
import { AnnotationLevel, constructAnnotations, formatAnnotation } from '../../lib/construct-annotations';

// cdk8s prints no construct annotations: these helpers read what aws-cdk-lib's Annotations recorded on a tree
// (a cdk8s App and its charts, or any construct) and write each line as the cdk CLI does.
describe('constructAnnotations', () => {
  test('reads every info, warning and error on the tree, in tree order, with its construct path', () => {
    const app = Testing.app();
    const a = new Chart(app, 'serving');
    const b = new Chart(app, 'training');
    const child = new Construct(b, 'Job');
    Annotations.of(a).addWarningV2('test:first', 'first warning');
    Annotations.of(child).addError('broken');
    Annotations.of(child).addInfo('for your information');
    b.node.addMetadata('other:type', 'not an annotation');
    expect(constructAnnotations(app)).toEqual([
      { level: AnnotationLevel.WARNING, path: '/serving', message: 'first warning [ack: test:first]' },
      { level: AnnotationLevel.ERROR, path: '/training/Job', message: 'broken' },
      { level: AnnotationLevel.INFO, path: '/training/Job', message: 'for your information' },
    ]);
    // a subtree only
    expect(constructAnnotations(b).map((x) => x.message)).toEqual(['broken', 'for your information']);
  });

  test('an acknowledged warning is not read', () => {
    const app = Testing.app();
    const chart = new Chart(app, 'device-plugins');
    Annotations.of(chart).addWarningV2('test:noisy', 'noisy');
    Annotations.of(chart).addWarningV2('test:kept', 'kept');
    Annotations.of(chart).acknowledgeWarning('test:noisy');
    expect(constructAnnotations(app).map((x) => x.message)).toEqual(['kept [ack: test:kept]']);
  });

  test('nothing recorded, nothing read', () => {
    const app = Testing.app();
    new Chart(app, 'empty');
    expect(constructAnnotations(app)).toEqual([]);
  });
});

describe('formatAnnotation', () => {
  test('writes a line as the cdk CLI does: [Level at /path] message', () => {
    expect(formatAnnotation({ level: AnnotationLevel.WARNING, path: '/device-plugins', message: 'no label [ack: x:y]' }))
      .toBe('[Warning at /device-plugins] no label [ack: x:y]');
    expect(formatAnnotation({ level: AnnotationLevel.ERROR, path: '/training/Job', message: 'broken' })).toBe('[Error at /training/Job] broken');
    expect(formatAnnotation({ level: AnnotationLevel.INFO, path: '/serving', message: 'fyi' })).toBe('[Info at /serving] fyi');
  });
});
