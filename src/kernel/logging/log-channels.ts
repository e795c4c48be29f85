import { isAbsolute, join } from 'node:path';
import type { DestinationStream, StreamEntry } from 'pino';
import { pino } from 'pino';
import { FileChannel } from './file-channel.js';
import { LineBatcher, type LineTarget } from './line-batcher.js';
import {
  type LogChannelConfig,
  type LoggingConfig,
  type LogLevelName,
  levelValue,
} from './logging-config.js';
import { createPrettyStream } from './pretty-stream.js';

export interface LogChannelsOptions {
  /** Relative file paths start here (the app root). */
  root: string;
  /** Pretty-print the stdout/stderr channels that do not say (a TTY outside production). */
  pretty?: boolean;
  /** Replace the process's stdout/stderr (tests). */
  stdout?: DestinationStream;
  stderr?: DestinationStream;
  /** The clock file rotation reads (tests). */
  clock?: () => Date;
  /** How long a line may wait to be written with others (ms, default 25): see LineBatcher. */
  batchDelayMs?: number;
}

/** The destination a logger writes to, built from the `logging` config. */
export interface LogChannels {
  /** One stream, or pino's multistream over the default channel's members. */
  readonly destination: DestinationStream;
  /** The lowest level any member admits: the logger's own level. */
  readonly level: LogLevelName;
  /** The file channels opened, by name. */
  readonly files: ReadonlyMap<string, FileChannel>;
  /** Write out what the channels buffer and close the files (at shutdown). */
  close(): Promise<void>;
}

interface Member {
  name: string;
  stream: DestinationStream & { flushSync?: () => void };
  level: LogLevelName;
}

function stricter(a: LogLevelName, b: LogLevelName | undefined): LogLevelName {
  return b !== undefined && levelValue(b) > levelValue(a) ? b : a;
}

/**
 * Open the channels `config.default` reaches (a stack fans out to its members; a channel two
 * stacks share is opened once) and combine them: each line goes to every member whose
 * level admits it.
 *
 * @example
 * ```ts
 * const channels = buildLogChannels(resolveLoggingConfig(raw), { root: app.paths.root });
 * const logger = createLogger({ name: 'erp', destination: channels.destination, level: channels.level });
 * app.onShutdown(() => channels.close());
 * ```
 */
export function buildLogChannels(config: LoggingConfig, options: LogChannelsOptions): LogChannels {
  const files = new Map<string, FileChannel>();
  const opened = new Map<string, Member['stream']>();

  const open = (name: string, channel: Exclude<LogChannelConfig, { driver: 'stack' }>) => {
    const existing = opened.get(name);
    if (existing) return existing;
    let stream: Member['stream'];
    if (channel.driver === 'file') {
      const path = channel.path ?? `var/log/${name}.log`;
      const file = new FileChannel({
        name,
        file: isAbsolute(path) ? path : join(options.root, path),
        config: channel,
        ...(options.clock ? { clock: options.clock } : {}),
        ...(options.batchDelayMs !== undefined ? { batchDelayMs: options.batchDelayMs } : {}),
      });
      files.set(name, file);
      stream = file;
    } else {
      const fd = channel.driver === 'stdout' ? 1 : 2;
      const pretty = channel.pretty ?? options.pretty ?? false;
      // JSON is written asynchronously (pino flushes it at exit); pretty output, for a
      // person at a terminal, synchronously, so it interleaves with console output in order.
      // JSON lines of one event-loop turn go out as one write (LineBatcher).
      const raw =
        (fd === 1 ? options.stdout : options.stderr) ??
        (pretty
          ? pino.destination({ dest: fd, sync: true })
          : // In buffer mode sonic-boom takes the batches' bytes as they are (its types say string).
            new LineBatcher(
              pino.destination({
                dest: fd,
                sync: false,
                contentMode: 'buffer',
              }) as unknown as LineTarget,
              {
                ...(options.batchDelayMs !== undefined ? { maxDelayMs: options.batchDelayMs } : {}),
              },
            ));
      stream = pretty ? createPrettyStream({ destination: raw }) : raw;
    }
    opened.set(name, stream);
    return stream;
  };

  const members: Member[] = [];
  const root = config.channels[config.default]!;
  const base = stricter(config.level, root.level);
  if (root.driver === 'stack') {
    for (const name of new Set(root.channels)) {
      const channel = config.channels[name] as Exclude<LogChannelConfig, { driver: 'stack' }>;
      members.push({ name, stream: open(name, channel), level: stricter(base, channel.level) });
    }
  } else {
    members.push({ name: config.default, stream: open(config.default, root), level: base });
  }

  const level = members.reduce<LogLevelName>(
    (lowest, m) => (levelValue(m.level) < levelValue(lowest) ? m.level : lowest),
    'silent',
  );
  const destination =
    members.length === 1
      ? members[0]!.stream
      : pino.multistream(
          members.map((m): StreamEntry => ({ stream: m.stream, level: m.level as never })),
        );

  return {
    destination,
    level,
    files,
    async close() {
      for (const member of members) {
        if (member.stream instanceof FileChannel) continue;
        try {
          member.stream.flushSync?.();
        } catch {
          // sonic-boom refuses flushSync before its fd is open: nothing was written yet.
        }
      }
      await Promise.all([...files.values()].map((file) => file.close()));
    },
  };
}
