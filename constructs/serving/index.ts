// Re-exports of the serving constructs.
export * from './container-image';
export * from './endpoint-instance-type';
export * from './endpoint-variant';
export * from './model-data';
export * from './model-endpoint';
export * from './model-endpoint-base';
export * from './rollout';
export * from './scalable-endpoint-variant';
