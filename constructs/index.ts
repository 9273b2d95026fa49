// The reusable building blocks, one folder per area. This file only re-exports.
export * from './compute';
export * from './serving';
export * from './k8s';
export * from './cost';
export * from './training';
