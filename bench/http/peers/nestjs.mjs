// NestJS on its Express adapter, written as Nest users write it: a controller, functional
// middleware bound with MiddlewareConsumer to `POST /orders`, a Zod validation pipe (the one
// Nest's docs show) and `useBodyParser('json', { limit })` for the body limit. Plain JS has no
// decorator syntax on Node 20, so the decorators are applied by hand with Reflect.decorate;
// the metadata Nest reads is the same.
import 'reflect-metadata';
import {
  BadRequestException,
  Body,
  Controller,
  Get,
  HttpCode,
  Module,
  Param,
  Post,
  Query,
  RequestMethod,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  applySecurityHeaders,
  BODY_LIMIT,
  closeOnSignal,
  logRequest,
  nullLogger,
  OrderSchema,
  portFromEnv,
  requestIdFrom,
  userBody,
} from './shared.mjs';

const logger = nullLogger();

class ZodValidationPipe {
  constructor(schema) {
    this.schema = schema;
  }

  transform(value) {
    const result = this.schema.safeParse(value);
    if (!result.success) {
      throw new BadRequestException({ error: 'validation failed', issues: result.error.issues });
    }
    return result.data;
  }
}

class AppController {
  hello() {
    return { hello: 'world' };
  }

  user(id, fields) {
    return userBody(id, fields);
  }

  order(body) {
    return { ok: true, order: body };
  }
}

function decorateMethod(target, name, decorators) {
  const descriptor = Object.getOwnPropertyDescriptor(target.prototype, name);
  Reflect.decorate(decorators, target.prototype, name, descriptor);
}

Reflect.decorate([Controller()], AppController);
decorateMethod(AppController, 'hello', [Get('hello')]);
decorateMethod(AppController, 'user', [Get('users/:id')]);
Param('id')(AppController.prototype, 'user', 0);
Query('fields')(AppController.prototype, 'user', 1);
// Nest answers POST with 201 by default; the other peers answer 200.
decorateMethod(AppController, 'order', [Post('orders'), HttpCode(200)]);
Body(new ZodValidationPipe(OrderSchema))(AppController.prototype, 'order', 0);

function requestId(req, res, next) {
  req.reqId = requestIdFrom(req.headers['x-request-id']);
  res.setHeader('x-request-id', req.reqId);
  next();
}

function requestLog(req, res, next) {
  const startedAt = process.hrtime.bigint();
  res.on('finish', () =>
    logRequest(logger, req.reqId, req.method, req.originalUrl, res.statusCode, startedAt),
  );
  next();
}

function securityHeaders(_req, res, next) {
  applySecurityHeaders((name, value) => res.setHeader(name, value));
  next();
}

class AppModule {
  configure(consumer) {
    consumer
      .apply(requestId, requestLog, securityHeaders)
      .forRoutes({ path: 'orders', method: RequestMethod.POST });
  }
}
Reflect.decorate([Module({ controllers: [AppController] })], AppModule);

const app = await NestFactory.create(AppModule, { logger: false, bodyParser: false });
app.useBodyParser('json', { limit: BODY_LIMIT });
await app.listen(portFromEnv(), '127.0.0.1');
console.log('ready');
closeOnSignal(() => app.close());
