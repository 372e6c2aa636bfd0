import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';

// COORDINATION_URL picks the backend (memory:// by default, which lives in
// this process). Two instances started on the same redis:// URL with
// different PORTs show one leader and the items split between the two
// members; kill the leader and the other takes over (README: "The sample on
// Redis, twice").
const app = await NestFactory.create(AppModule);
app.enableShutdownHooks();
await app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
Logger.log(`Sample listening on ${await app.getUrl()} (try GET /status and GET /items)`, 'Sample');
