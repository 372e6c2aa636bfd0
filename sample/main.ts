import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';

// Two terminals, one backend:
//   COORDINATION_URL=redis://127.0.0.1:6379 PORT=3000 npm start
//   COORDINATION_URL=redis://127.0.0.1:6379 PORT=3001 npm start
// show one leader and the items split between the two members.
const app = await NestFactory.create(AppModule);
app.enableShutdownHooks();
await app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
Logger.log(`Sample listening on ${await app.getUrl()} (try GET /status and GET /items)`, 'Sample');
