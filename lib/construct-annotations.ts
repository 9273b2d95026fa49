import * as cxschema from 'aws-cdk-lib/cloud-assembly-schema';
import { IConstruct } from 'constructs';

/** How serious an annotation is. */
export enum AnnotationLevel {
  /** `Annotations.of(scope).addInfo()` / `addInfoV2()`. */
  INFO = 'info',
  /** `Annotations.of(scope).addWarningV2()`: acknowledge it with `acknowledgeWarning(id)` once handled. */
  WARNING = 'warning',
  /** `Annotations.of(scope).addError()`: the output is not fit to deploy. */
  ERROR = 'error',
}

/** An annotation recorded on a construct. */
export interface ConstructAnnotation {
  /** Info, warning or error. */
  readonly level: AnnotationLevel;
  /** Path of the construct it is recorded on, with a leading `/` as the cdk CLI writes it (e.g. `/device-plugins`). */
  readonly path: string;
  /** The message; a warning added with `addWarningV2` ends with `[ack: <id>]`, the id that acknowledges it. */
  readonly message: string;
}

const LEVELS: Record<string, AnnotationLevel> = {
  [cxschema.ArtifactMetadataEntryType.INFO]: AnnotationLevel.INFO,
  [cxschema.ArtifactMetadataEntryType.WARN]: AnnotationLevel.WARNING,
  [cxschema.ArtifactMetadataEntryType.ERROR]: AnnotationLevel.ERROR,
};

/**
 * Every info, warning and error recorded with aws-cdk-lib's `Annotations` on `scope` and the constructs below it, in
 * tree order (acknowledged warnings are gone). The cdk CLI prints these for CDK apps; cdk8s prints none, so read
 * them here for charts (`constructAnnotations(app)` after `buildPlatformCharts(app)`).
 *
 * @example
 * const app = new App();
 * buildPlatformCharts(app, { devicePlugin: true });
 * for (const a of constructAnnotations(app)) console.error(formatAnnotation(a));
 * app.synth();
 */
export function constructAnnotations(scope: IConstruct): ConstructAnnotation[] {
  return scope.node.findAll().flatMap((c) => c.node.metadata
    .filter((m) => LEVELS[m.type] !== undefined)
    .map((m) => ({ level: LEVELS[m.type], path: `/${c.node.path}`, message: String(m.data) })));
}

/** One annotation as the cdk CLI prints it: `[Warning at /device-plugins] message [ack: id]`. */
export function formatAnnotation(annotation: ConstructAnnotation): string {
  const level = { [AnnotationLevel.INFO]: 'Info', [AnnotationLevel.WARNING]: 'Warning', [AnnotationLevel.ERROR]: 'Error' }[annotation.level];
  return `[${level} at ${annotation.path}] ${annotation.message}`;
}
