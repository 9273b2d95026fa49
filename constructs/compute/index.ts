export * from './gpu-instance-type';
export * from './capacity';
export * from './accelerator-nodes';
