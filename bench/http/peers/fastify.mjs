// Fastify 5, written as its docs teach: route options with onRequest/onResponse hooks and a
// per-route bodyLimit. Validation uses the shared Zod schema through Fastify's own
// `validatorCompiler` hook (the mechanism fastify-type-provider-zod uses), not Ajv, so every
// peer runs the same validator. No response schema: the other peers have none either.
import Fastify from 'fastify';
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
const app = Fastify({ logger: false });

app.get('/hello', async () => ({ hello: 'world' }));

app.get('/users/:id', async (request) => userBody(request.params.id, request.query.fields));

function zodValidatorCompiler({ schema }) {
  return (data) => {
    const result = schema.safeParse(data);
    return result.success ? { value: result.data } : { error: result.error };
  };
}

app.route({
  method: 'POST',
  url: '/orders',
  bodyLimit: BODY_LIMIT,
  schema: { body: OrderSchema },
  validatorCompiler: zodValidatorCompiler,
  onRequest: [
    async function requestId(request, reply) {
      request.reqId = requestIdFrom(request.headers['x-request-id']);
      request.startedAt = process.hrtime.bigint();
      reply.header('x-request-id', request.reqId);
    },
    async function securityHeaders(_request, reply) {
      applySecurityHeaders((name, value) => reply.header(name, value));
    },
  ],
  onResponse: async function requestLog(request, reply) {
    logRequest(
      logger,
      request.reqId,
      request.method,
      request.url,
      reply.statusCode,
      request.startedAt,
    );
  },
  handler: async (request) => ({ ok: true, order: request.body }),
});

await app.listen({ port: portFromEnv(), host: '127.0.0.1' });
console.log('ready');
closeOnSignal(() => app.close());
