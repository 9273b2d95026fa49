export * from './spot-training-fleet';
