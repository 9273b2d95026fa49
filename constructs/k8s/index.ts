// Re-exports of the k8s constructs.
export * from './accelerator-scheduling';
export * from './inference-service';
