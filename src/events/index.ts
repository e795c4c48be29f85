export {
  E_EVENT_ASSERTION_FAILED,
  E_EVENT_DECLARATION_CONFLICT,
  E_INVALID_EVENT_DECLARATION,
  E_INVALID_EVENT_NAME,
  E_INVALID_LISTENER,
  E_INVALID_LISTENERS_DEFINITION,
  E_LISTENER_FAILED,
} from './errors.js';
export { EventBus } from './event-bus.js';
export type { EventFake, RecordedEvent } from './event-fake.js';
export { MAX_EVENT_NAME_LENGTH } from './event-validation.js';
export {
  defineListeners,
  type ListenerEntry,
  type ListenerSpec,
  type ListenersDefinition,
  type ListenersMap,
  registerListeners,
} from './listeners-definition.js';
export type {
  AnyListener,
  EmitResult,
  EmittedEvent,
  ErrorReporter,
  EventDeclaration,
  EventDeclarationInfo,
  EventMap,
  EventMeta,
  FakeOptions,
  Listener,
  ListenerFailure,
  ListenerInfo,
  ListenerOptions,
  PayloadArgs,
} from './types.js';
