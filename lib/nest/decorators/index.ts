export * from './inject-coordinator.decorator.js';
export * from './leader.decorator.js';
export * from './on-leader-elected.decorator.js';
export * from './on-member-joined.decorator.js';
export * from './on-member-left.decorator.js';
export * from './with-lock.decorator.js';
