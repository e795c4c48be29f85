import { AsyncSlot } from '../support/async-slot.js';
import { suggest } from '../support/index.js';
import {
  type Binding,
  type BindingDescription,
  compareKeys,
  disposeInstance,
  type Frame,
  type Gate,
  isDisposable,
  isThenable,
  type Lifetime,
  newSlot,
  type Slot,
} from './binding.js';
import type { Container, MissingResolver } from './container.js';
import {
  E_ALIAS_CYCLE,
  E_ASYNC_BINDING,
  E_ASYNC_DEFERRED_PROVIDER,
  E_BINDING_NOT_FOUND,
  E_CIRCULAR_DEPENDENCY,
  E_DISPOSE_FAILED,
  E_INVALID_BINDING,
  E_SCOPE_DISPOSED,
  E_SCOPE_REQUIRED,
} from './errors.js';
import { classDependencies } from './inject.js';
import { type BindingKey, isBindingKey, keyName } from './token.js';

/** State every container of one tree shares: the root's and all its scopes'. */
export interface Shared {
  /** Keys being built by the synchronous call chain running right now. */
  stack: BindingKey[];
  als: AsyncSlot<Frame> | undefined;
  resolver: MissingResolver | undefined;
  resolverHas: ((key: BindingKey) => boolean) | undefined;
  resolverKeys: (() => Iterable<BindingKey>) | undefined;
  gates: Map<BindingKey, Gate>;
  /** Keys bound while the missing resolver runs: the ones a pending boot must gate. */
  recording: BindingKey[] | undefined;
}

type Hook = { key: BindingKey; callback: (value: unknown, container: Container) => void };
type Found = { canonical: BindingKey; binding: Binding<Container> | undefined };

const noop = (): void => {};

export function newShared(): Shared {
  return {
    stack: [],
    als: undefined,
    resolver: undefined,
    resolverHas: undefined,
    resolverKeys: undefined,
    gates: new Map(),
    recording: undefined,
  };
}

/**
 * The engine behind one Container (the root or a scope): its own registrations and caches,
 * a link to its parent, and the resolution algorithms. Internal; Container is the API.
 */
export class Resolver {
  readonly bindings = new Map<BindingKey, Binding<Container>>();
  readonly aliases = new Map<BindingKey, BindingKey>();
  readonly swaps = new Map<BindingKey, Binding<Container>>();
  readonly hooks: Hook[] = [];
  readonly #scoped = new Map<Binding<Container>, Slot>();
  readonly #disposables = new Set<unknown>();
  readonly #pending = new Set<Promise<unknown>>();
  #disposed = false;

  constructor(
    readonly container: Container,
    readonly parent: Resolver | undefined,
    readonly shared: Shared,
    readonly label: string,
  ) {}

  assertUsable(): void {
    if (this.#disposed) throw new E_SCOPE_DISPOSED(this.label);
  }

  assertKey(key: unknown): asserts key is BindingKey {
    if (!isBindingKey(key)) throw new E_INVALID_BINDING(keyName(key), 'not a valid key');
  }

  binding(
    key: BindingKey,
    lifetime: Lifetime,
    factory: ((c: Container) => unknown) | undefined,
    cls: Function | undefined,
    value: unknown,
  ): Binding<Container> {
    return { key, lifetime, factory, cls, value, owner: this.container, slot: undefined };
  }

  register(key: unknown, lifetime: Lifetime, factory: unknown, value: unknown): void {
    this.assertUsable();
    this.assertKey(key);
    if (lifetime !== 'value' && factory !== undefined && typeof factory !== 'function') {
      throw new E_INVALID_BINDING(keyName(key), `the factory is ${typeof factory}, not a function`);
    }
    let cls: Function | undefined;
    if (lifetime !== 'value' && factory === undefined) {
      if (typeof key !== 'function') {
        throw new E_INVALID_BINDING(keyName(key), 'string, symbol and token keys need a factory');
      }
      cls = key;
    }
    this.aliases.delete(key);
    const make = factory as ((c: Container) => unknown) | undefined;
    this.bindings.set(key, this.binding(key, lifetime, make, cls, value));
    this.shared.recording?.push(key);
  }

  /** This resolver and its ancestors, innermost first. */
  chain(): Resolver[] {
    const chain: Resolver[] = [];
    for (let r: Resolver | undefined = this; r; r = r.parent) chain.push(r);
    return chain;
  }

  /** The nearest binding or alias for one key, without following aliases. */
  bindingOrAlias(key: BindingKey): { binding?: Binding<Container>; alias?: BindingKey } {
    for (let r: Resolver | undefined = this; r; r = r.parent) {
      const binding = r.bindings.get(key);
      if (binding) return { binding };
      const alias = r.aliases.get(key);
      if (alias !== undefined) return { alias };
    }
    return {};
  }

  /** Follow aliases to the canonical key and find its binding; swaps win when asked. */
  lookup(key: BindingKey, withSwaps = true): Found {
    let seen: BindingKey[] | undefined;
    for (let current = key; ; ) {
      if (withSwaps) {
        for (let r: Resolver | undefined = this; r; r = r.parent) {
          const swapped = r.swaps.get(current);
          if (swapped) return { canonical: current, binding: swapped };
        }
      }
      const found = this.bindingOrAlias(current);
      if (found.alias === undefined) return { canonical: current, binding: found.binding };
      seen ??= [];
      seen.push(current);
      // alias() refuses cycles, but a scope's alias can close one through its parent's.
      if (seen.includes(found.alias)) throw new E_ALIAS_CYCLE([...seen, found.alias].map(keyName));
      current = found.alias;
    }
  }

  describe(): BindingDescription[] {
    const entries = new Map<string, BindingDescription>();
    for (const level of this.chain().reverse()) {
      for (const binding of level.bindings.values()) {
        const key = keyName(binding.key);
        entries.set(key, { key, lifetime: binding.lifetime });
      }
      for (const [alias, target] of level.aliases) {
        const key = keyName(alias);
        const lifetime = this.lookup(target, false).binding?.lifetime ?? 'transient';
        entries.set(key, { key, lifetime, alias: keyName(target) });
      }
    }
    return [...entries.values()].sort(compareKeys);
  }

  resolveSync(key: unknown): unknown {
    this.assertUsable();
    this.assertKey(key);
    let { canonical, binding } = this.lookup(key);
    const gate = this.shared.gates.size > 0 ? this.#gateFor(canonical) : undefined;
    if (gate) {
      if (gate.failed) throw gate.error;
      throw new E_ASYNC_DEFERRED_PROVIDER(keyName(canonical));
    }
    if (!binding) {
      const answer = this.#askResolver(canonical);
      if (typeof answer === 'object') throw new E_ASYNC_DEFERRED_PROVIDER(keyName(canonical));
      if (answer) ({ canonical, binding } = this.lookup(key));
    }
    const found = binding ?? this.#implicit(canonical);
    switch (found.lifetime) {
      case 'value':
        return found.value;
      case 'transient':
        return this.#createSync(found, canonical, undefined);
      case 'singleton':
        return this.#owner(found).#createSync(found, canonical, this.#singletonSlot(found));
      case 'scoped':
        return this.#createSync(found, canonical, this.#scopedSlot(found, canonical));
    }
  }

  async resolveAsync(key: unknown): Promise<unknown> {
    this.assertUsable();
    this.assertKey(key);
    let askedResolver = false;
    for (;;) {
      const { canonical, binding } = this.lookup(key);
      const gate = this.shared.gates.size > 0 ? this.#gateFor(canonical) : undefined;
      if (gate) {
        await gate.promise;
        if (gate.failed) throw gate.error;
        continue;
      }
      if (!binding && !askedResolver) {
        askedResolver = true;
        const answer = this.#askResolver(canonical);
        if (typeof answer === 'object') {
          await answer.promise;
          if (answer.failed) throw answer.error;
        }
        continue;
      }
      const found = binding ?? this.#implicit(canonical);
      switch (found.lifetime) {
        case 'value':
          return await found.value;
        case 'transient':
          return await this.#createAsync(found, canonical, undefined);
        case 'singleton':
          return await this.#owner(found).#createAsync(
            found,
            canonical,
            this.#singletonSlot(found),
          );
        case 'scoped':
          return await this.#createAsync(found, canonical, this.#scopedSlot(found, canonical));
      }
    }
  }

  /**
   * Run the disposers of the instances this level cached, newest first, after any async
   * factory still running has settled. Every disposer runs; failures are thrown together.
   */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    await Promise.allSettled([...this.#pending]);
    const errors: unknown[] = [];
    for (const instance of [...this.#disposables].reverse()) {
      try {
        await disposeInstance(instance);
      } catch (error) {
        errors.push(error);
      }
    }
    this.#disposables.clear();
    this.#scoped.clear();
    if (errors.length > 0) {
      throw new E_DISPOSE_FAILED(this.label, errors.length).withCause(
        new AggregateError(errors, `Disposing ${this.label}`),
      );
    }
  }

  /** A singleton is built on, and owned by, the container it was registered on. */
  #owner(binding: Binding<Container>): Resolver {
    for (let r: Resolver | undefined = this; r; r = r.parent) {
      if (r.container === binding.owner) return r;
    }
    return this;
  }

  #singletonSlot(binding: Binding<Container>): Slot {
    if (!binding.slot) binding.slot = newSlot();
    return binding.slot;
  }

  #scopedSlot(binding: Binding<Container>, key: BindingKey): Slot {
    if (!this.parent) throw new E_SCOPE_REQUIRED(keyName(key), this.#path().map(keyName));
    let slot = this.#scoped.get(binding);
    if (!slot) {
      slot = newSlot();
      this.#scoped.set(binding, slot);
    }
    return slot;
  }

  /** The binding used for a key nobody bound: a class is constructed as a transient. */
  #implicit(key: BindingKey): Binding<Container> {
    if (typeof key === 'function') return this.binding(key, 'transient', undefined, key, undefined);
    const candidates = new Set<string>();
    for (const r of this.chain()) {
      for (const k of r.bindings.keys()) candidates.add(keyName(k));
      for (const k of r.aliases.keys()) candidates.add(keyName(k));
    }
    for (const k of this.shared.resolverKeys?.() ?? []) candidates.add(keyName(k));
    const name = keyName(key);
    candidates.delete(name);
    throw new E_BINDING_NOT_FOUND(name, this.#path().map(keyName), suggest(name, candidates));
  }

  #als(): AsyncSlot<Frame> {
    if (!this.shared.als) this.shared.als = new AsyncSlot<Frame>();
    return this.shared.als;
  }

  /** The keys being built by the current chain: async frames first, then the sync stack. */
  #path(): BindingKey[] {
    const frames: BindingKey[] = [];
    for (let f = this.shared.als?.get(); f; f = f.parent) {
      if (!f.done && !f.gate) frames.unshift(f.key);
    }
    return frames.length === 0 ? [...this.shared.stack] : [...frames, ...this.shared.stack];
  }

  #enter(key: BindingKey): BindingKey[] {
    const path = this.#path();
    if (path.includes(key)) {
      throw new E_CIRCULAR_DEPENDENCY([...path.slice(path.indexOf(key)), key].map(keyName));
    }
    return path;
  }

  /** The open gate for a key, unless the caller runs inside that gate's own activation. */
  #gateFor(key: BindingKey): Gate | undefined {
    const gate = this.shared.gates.get(key);
    if (!gate) return undefined;
    for (let f = this.shared.als?.get(); f; f = f.parent) {
      if (f.gate === gate && !f.done) return undefined;
    }
    return gate;
  }

  /**
   * Ask the missing resolver for a key. When it answers with a promise (a deferred provider
   * with an async boot), the keys it bound meanwhile are gated until the promise settles;
   * work started inside the activation carries a frame that lets it through its own gate.
   */
  #askResolver(key: BindingKey): boolean | Gate {
    const shared = this.shared;
    const resolver = shared.resolver;
    if (!resolver || shared.resolverHas?.(key) === false) return false;
    const gate: Gate = { promise: Promise.resolve(), failed: false, error: undefined };
    const als = this.#als();
    const frame: Frame = { key, parent: als.get(), gate, done: false };
    const previous = shared.recording;
    const recorded: BindingKey[] = [key];
    shared.recording = recorded;
    let answer: boolean | Promise<boolean>;
    try {
      answer = als.run(frame, () => resolver(key));
    } catch (error) {
      // Same as a failed async boot: the half-registered keys keep reporting the failure.
      frame.done = true;
      gate.failed = true;
      gate.error = error;
      for (const k of recorded) shared.gates.set(k, gate);
      throw error;
    } finally {
      shared.recording = previous;
    }
    if (!isThenable(answer)) {
      frame.done = true;
      return answer === true;
    }
    for (const k of recorded) shared.gates.set(k, gate);
    gate.promise = Promise.resolve(answer).then(
      () => {
        frame.done = true;
        for (const k of recorded) if (shared.gates.get(k) === gate) shared.gates.delete(k);
      },
      (error: unknown) => {
        // A failed boot keeps its keys gated: every later make() reports the same failure.
        frame.done = true;
        gate.failed = true;
        gate.error = error;
      },
    );
    return gate;
  }

  /** Build (or return the cached) instance, on this level as the binding's context. */
  #createSync(binding: Binding<Container>, key: BindingKey, slot: Slot | undefined): unknown {
    if (slot?.ready) return slot.value;
    const path = this.#enter(key);
    if (slot?.promise) throw new E_ASYNC_BINDING(keyName(key), path.map(keyName));
    const stack = this.shared.stack;
    stack.push(key);
    let result: unknown;
    try {
      result = binding.cls
        ? construct(
            binding.cls,
            classDependencies(binding.cls).map((dep) => this.resolveSync(dep)),
          )
        : binding.factory!(this.container);
    } finally {
      stack.pop();
    }
    if (isThenable(result)) {
      // Keep the promise so that a later makeAsync() shares this one run of the factory.
      this.#settle(Promise.resolve(result), key, slot, undefined).catch(noop);
      throw new E_ASYNC_BINDING(keyName(key), path.map(keyName));
    }
    return this.#finish(key, result, slot);
  }

  #createAsync(binding: Binding<Container>, key: BindingKey, slot: Slot | undefined): unknown {
    if (slot?.ready) return slot.value;
    this.#enter(key);
    if (slot?.promise) return slot.promise;
    const als = this.#als();
    const frame: Frame = { key, parent: als.get(), gate: undefined, done: false };
    // From here the frame carries the chain; the sync stack belongs to whoever called us.
    const stack = this.shared.stack;
    this.shared.stack = [];
    let started: Promise<unknown>;
    try {
      started = als.run(frame, () => this.#buildAsync(binding));
    } finally {
      this.shared.stack = stack;
    }
    return this.#settle(started, key, slot, frame);
  }

  async #buildAsync(binding: Binding<Container>): Promise<unknown> {
    if (!binding.cls) return await binding.factory!(this.container);
    const args: unknown[] = [];
    for (const dep of classDependencies(binding.cls)) args.push(await this.resolveAsync(dep));
    return construct(binding.cls, args);
  }

  #settle(
    promise: Promise<unknown>,
    key: BindingKey,
    slot: Slot | undefined,
    frame: Frame | undefined,
  ): Promise<unknown> {
    const settled = promise.then(
      (value) => {
        if (frame) frame.done = true;
        if (slot) slot.promise = undefined;
        this.#pending.delete(settled);
        return this.#finish(key, value, slot);
      },
      (error: unknown) => {
        if (frame) frame.done = true;
        // Forget the failed promise so that the next resolution retries the factory.
        if (slot) slot.promise = undefined;
        this.#pending.delete(settled);
        throw error;
      },
    );
    if (slot) {
      slot.promise = settled;
      this.#pending.add(settled);
    }
    return settled;
  }

  #finish(key: BindingKey, value: unknown, slot: Slot | undefined): unknown {
    if (slot) {
      slot.ready = true;
      slot.value = value;
      if (isDisposable(value)) this.#disposables.add(value);
    }
    for (const level of this.chain().reverse()) {
      for (const hook of level.hooks) {
        if (hook.key === key || this.lookup(hook.key, false).canonical === key) {
          hook.callback(value, this.container);
        }
      }
    }
    return value;
  }
}

function construct(cls: Function, args: unknown[]): unknown {
  return new (cls as new (...args: unknown[]) => unknown)(...args);
}
