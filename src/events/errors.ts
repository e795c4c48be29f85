import { defineError } from '../support/index.js';

// A name from hostile or buggy input may be huge or hold control characters: quote and clip it.
function printable(value: unknown): string {
  const text = typeof value === 'string' ? value : typeof value;
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
}

function causeMessage(cause: unknown): string {
  if (cause instanceof Error) return cause.message || cause.name;
  try {
    return String(cause);
  } catch {
    return typeof cause;
  }
}

export const E_INVALID_EVENT_NAME = defineError(
  'E_INVALID_EVENT_NAME',
  (name: unknown, reason: string) => `Invalid event name ${printable(name)}: ${reason}`,
  {
    status: 500,
    help: 'Use a non-empty string of at most 200 characters without spaces or "*", such as "orders.placed".',
    details: (name: unknown) => ({ event: typeof name === 'string' ? name.slice(0, 200) : null }),
  },
);

export const E_INVALID_LISTENER = defineError(
  'E_INVALID_LISTENER',
  (event: string | null, reason: string) =>
    `Invalid listener${event === null ? '' : ` for event "${event}"`}: ${reason}`,
  {
    status: 500,
    help: 'Pass a function (payload, meta) => void | Promise<void>, and options with a finite numeric priority and string name/module.',
    details: (event: string | null) => ({ event }),
  },
);

export const E_LISTENER_FAILED = defineError(
  'E_LISTENER_FAILED',
  (event: string, listener: string, module: string | null, cause: unknown) =>
    `Listener "${listener}"${module === null ? '' : ` of module "${module}"`} failed on event "${event}": ${causeMessage(cause)}`,
  {
    status: 500,
    help: 'See the cause below; fix the listener, or catch inside it what it can recover from.',
    details: (event: string, listener: string, module: string | null) => ({
      event,
      listener,
      module,
    }),
  },
);

export const E_INVALID_EVENT_DECLARATION = defineError(
  'E_INVALID_EVENT_DECLARATION',
  (event: string, reason: string) => `Invalid declaration of event "${event}": ${reason}`,
  {
    status: 500,
    help: "Call bus.declare('event.name', { halting?: boolean, description?: string }).",
    details: (event: string) => ({ event }),
  },
);

export const E_EVENT_DECLARATION_CONFLICT = defineError(
  'E_EVENT_DECLARATION_CONFLICT',
  (event: string, first: boolean) =>
    `Event "${event}" is already declared ${first ? 'halting' : 'non-halting'}; it cannot be redeclared ${first ? 'non-halting' : 'halting'}`,
  {
    status: 500,
    help: 'Declare each event once, in the module that owns it; other modules only listen to it.',
    details: (event: string) => ({ event }),
  },
);

export const E_INVALID_LISTENERS_DEFINITION = defineError(
  'E_INVALID_LISTENERS_DEFINITION',
  (where: string, reason: string) =>
    `Invalid listeners definition${where === '' ? '' : ` ${where}`}: ${reason}`,
  {
    status: 500,
    help: "Default-export defineListeners({ 'event.name': listener | { handle, priority, once, name } | [...] }) from the module's events.ts.",
  },
);

export const E_EVENT_ASSERTION_FAILED = defineError(
  'E_EVENT_ASSERTION_FAILED',
  (message: string) => message,
  {
    status: 500,
    help: 'Check the event name and payload the code under test emits; fake.emitted(event) lists the recorded payloads.',
  },
);
