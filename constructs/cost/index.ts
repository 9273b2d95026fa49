export * from './cost-budget';
export * from './cost-estimate';
