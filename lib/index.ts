// Package entry: the building blocks and what composes them.
export * from '../constructs';
export { PlatformError } from './private/errors';
export * as labels from './private/labels';
export * from './ai-platform-stack';
export * from './platform-chart';
export * from './construct-annotations';
export * from './managed-spot-training';
