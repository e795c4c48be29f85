import type { WorkerProcess } from './cluster-worker.js';

/**
 * A gather: a worker asks the primary to ask every worker (itself included) for its answer on
 * `topic`, and gets them back together (metrics summed over the cluster, for one). The
 * primary knows nothing of topics; it relays.
 */
export interface GatherRequestMessage {
  type: 'keel:cluster:gather';
  id: string;
  topic: string;
  timeoutMs: number;
}

/** Sent by the primary to every worker for one gather. */
export interface GatherAskMessage {
  type: 'keel:cluster:gather-ask';
  id: string;
  topic: string;
}

/** A worker's answer to a {@link GatherAskMessage}. */
export interface GatherAnswerMessage {
  type: 'keel:cluster:gather-answer';
  id: string;
  data?: unknown;
  error?: string;
}

/** The primary's reply to the requesting worker: the answers received in time. */
export interface GatheredMessage {
  type: 'keel:cluster:gathered';
  id: string;
  answers: unknown[];
  /** Workers that did not answer in time (or answered with an error). */
  missing: number;
}

/** What a gather resolves to in the requesting worker. */
export interface ClusterGathered {
  answers: unknown[];
  missing: number;
}

function messageOf<T extends { type: string }>(message: unknown, type: T['type']): T | undefined {
  return typeof message === 'object' &&
    message !== null &&
    (message as { type?: unknown }).type === type &&
    typeof (message as { id?: unknown }).id === 'string'
    ? (message as T)
    : undefined;
}

export function isGatherRequest(message: unknown): message is GatherRequestMessage {
  const m = messageOf<GatherRequestMessage>(message, 'keel:cluster:gather');
  return m !== undefined && typeof m.topic === 'string' && typeof m.timeoutMs === 'number';
}

export function isGatherAnswer(message: unknown): message is GatherAnswerMessage {
  return messageOf<GatherAnswerMessage>(message, 'keel:cluster:gather-answer') !== undefined;
}

interface GatherState {
  /** The worker's IPC channel while it runs under the supervisor and has not begun to stop. */
  channel: WorkerProcess | undefined;
  readonly handlers: Map<string, () => unknown>;
  readonly pending: Map<string, (result: ClusterGathered | undefined) => void>;
  seq: number;
}

// On globalThis under a registered symbol: the CLI and the app may load two copies of this
// module (source and build), and both must reach the one IPC channel.
const GATHER = Symbol.for('keel.cluster.gather');

function gatherState(): GatherState {
  const global = globalThis as { [GATHER]?: GatherState };
  global[GATHER] ??= { channel: undefined, handlers: new Map(), pending: new Map(), seq: 0 };
  return global[GATHER];
}

/**
 * Answer the gathers on `topic` in this worker (cluster workers only; elsewhere the handler
 * is simply never called). Returns a function removing it.
 *
 * @example
 * ```ts
 * answerClusterGather('metrics', () => registry.getMetricsAsJSON());
 * ```
 */
export function answerClusterGather(topic: string, handler: () => unknown): () => void {
  const state = gatherState();
  state.handlers.set(topic, handler);
  return () => {
    if (state.handlers.get(topic) === handler) state.handlers.delete(topic);
  };
}

/**
 * Ask every worker of the cluster for its answer on `topic`; resolves with the answers that
 * came within `timeoutMs`, or undefined outside a `keel serve --workers` worker (or once it
 * began to stop, or when the primary did not reply in time).
 *
 * @example
 * ```ts
 * const gathered = await clusterGather('metrics', 2_000);
 * if (gathered) console.log(gathered.answers.length, 'workers answered');
 * ```
 */
export function clusterGather(
  topic: string,
  timeoutMs: number,
): Promise<ClusterGathered | undefined> {
  const state = gatherState();
  const channel = state.channel;
  if (channel?.send === undefined) return Promise.resolve(undefined);
  const id = `${channel.pid}-${++state.seq}`;
  return new Promise((resolve) => {
    // The primary waits timeoutMs for the workers; give its reply a little more to arrive.
    const timer = setTimeout(() => settle(undefined), timeoutMs + 500);
    const settle = (result: ClusterGathered | undefined): void => {
      clearTimeout(timer);
      state.pending.delete(id);
      resolve(result);
    };
    state.pending.set(id, settle);
    const request: GatherRequestMessage = { type: 'keel:cluster:gather', id, topic, timeoutMs };
    channel.send?.(request, (error) => {
      if (error) settle(undefined);
    });
  });
}

/** Handle a gather message the primary sent this worker (asks and replies). */
export function onGatherMessage(proc: WorkerProcess, message: unknown): void {
  const state = gatherState();
  const ask = messageOf<GatherAskMessage>(message, 'keel:cluster:gather-ask');
  if (ask !== undefined) {
    const reply = (answer: Omit<GatherAnswerMessage, 'type' | 'id'>): void => {
      proc.send?.({ type: 'keel:cluster:gather-answer', id: ask.id, ...answer }, () => {});
    };
    const handler = state.handlers.get(ask.topic);
    if (handler === undefined) {
      reply({ error: `no handler for "${String(ask.topic).slice(0, 50)}"` });
      return;
    }
    Promise.resolve()
      .then(handler)
      .then(
        (data) => reply({ data }),
        (error: unknown) =>
          reply({ error: error instanceof Error ? error.message : String(error) }),
      );
    return;
  }
  const gathered = messageOf<GatheredMessage>(message, 'keel:cluster:gathered');
  if (gathered !== undefined && Array.isArray(gathered.answers))
    state.pending.get(gathered.id)?.({ answers: gathered.answers, missing: gathered.missing });
}

/** The channel gathers go through: set while the worker runs, cleared once it stops. */
export function setGatherChannel(proc: WorkerProcess | undefined): void {
  gatherState().channel = proc;
}
