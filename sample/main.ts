import { getCoordinator } from '../lib/index.js';

const coordinator = getCoordinator(process.env.COORDINATION_URL ?? 'memory://', `sample-${process.pid}`);
await coordinator.start({ startHeart: true });
await coordinator.joinGroupCreate('sample');
await coordinator.watchElectedAsLeader('sample', (event) => console.log(`elected: ${event.memberId}`));
await coordinator.runWatchers();
console.log(`leader of sample: ${await coordinator.getLeader('sample')}`);
await coordinator.stop();
