import './drivers/register.js';

export * from './core/index.js';
export * from './hashring/index.js';
export * from './nest/index.js';
