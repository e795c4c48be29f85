export {
  type BindingDescription,
  Container,
  type ContainerBindings,
  type Factory,
  type Lifetime,
  type MethodKey,
  type MissingResolver,
  type MissingResolverOptions,
} from './container.js';
export * from './errors.js';
export { type InjectableFunction, inject } from './inject.js';
export {
  type ProviderInfo,
  ProviderRegistry,
  type ProviderRegistryOptions,
  type ProviderState,
  type ProviderTiming,
  type RegistryPhase,
} from './provider-registry.js';
export {
  type ProviderClass,
  type ProviderHooks,
  type ProviderHost,
  type ProviderPhase,
  ServiceProvider,
} from './service-provider.js';
export { type BindingKey, isToken, type Token, token } from './token.js';
