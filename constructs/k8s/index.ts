// Re-exports of the k8s constructs.
export * from './accelerator-scheduling';
export * from './inference-service';
export * from './training-job';
export * from './gpu-node-pool';
export * from './device-plugin-daemon-set';
