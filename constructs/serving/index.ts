// Re-exports of the serving constructs.
export {};
