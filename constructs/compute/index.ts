export * from './gpu-instance-type';
export * from './capacity';
export * from './accelerator-nodes';
export * from './gpu-node-group';
export * from './device-plugins';
