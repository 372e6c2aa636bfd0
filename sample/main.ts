import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';

// COORDINATION_URL picks the backend (memory:// by default, which lives in
// this process). Once a network driver is available (redis://, postgresql://
// are planned), two instances started on the same URL with different PORTs
// show one leader and the items split between the two members.
const app = await NestFactory.create(AppModule);
app.enableShutdownHooks();
await app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
Logger.log(`Sample listening on ${await app.getUrl()} (try GET /status and GET /items)`, 'Sample');
