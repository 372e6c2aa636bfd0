// Kept apart from '../index.js' because it imports @nestjs/terminus, an
// optional peer dependency: import it from 'nestjs-coordination/health'.
export * from './coordination.health-indicator.js';
