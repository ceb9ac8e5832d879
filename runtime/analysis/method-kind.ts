// The kinds of token-importance methods (registry.ts), in a file of its own so that types-only readers of results
// (protocol/, which sees no platform types such as AbortSignal) need not load the registry's context types.
export type MethodKind = 'attention' | 'perturbation' | 'norm' | 'mixing' | 'gradient' | 'baseline';
