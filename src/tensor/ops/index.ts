// The functional op set (like torch.nn.functional): every differentiable op in one namespace.
export * from './conv';
export * from './elementwise';
export * from './linear';
export * from './loss';
export * from './norm';
export * from './pool';
export * from './shape';
