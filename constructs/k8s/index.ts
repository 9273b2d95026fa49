// Re-exports of the k8s constructs.
export {};
