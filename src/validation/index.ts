/**
 * keel/validation — Standard Schema validation with Keel's error shape, custom messages,
 * Keel's rule catalogue and async/app-defined rules. Guide: docs/validation.md.
 */
export {
  E_INVALID_MESSAGES,
  E_INVALID_RULE_OPTIONS,
  E_INVALID_SCHEMA,
  E_RULE_ALREADY_DEFINED,
  E_UNKNOWN_RULE,
  E_VALIDATION_ASYNC_SCHEMA,
  E_VALIDATION_FAILED,
  type FieldError,
  ValidationError,
} from './errors.js';
export {
  type Message,
  MessageBag,
  type MessageContext,
  type MessageMap,
  messages,
  setGlobalMessages,
  withMessages,
} from './message-bag.js';
export {
  createRequestValidator,
  type RequestPart,
  type RequestParts,
  type RequestSchemas,
  type RequestValidator,
  type RequestValidatorOptions,
  type ValidatedRequestParts,
  type ValidateRequestOptions,
  validateRequestParts,
} from './request-validator.js';
export {
  type AsyncRuleOptions,
  asyncRule,
  type RuleContext,
  type RuleFailure,
  type RuleMessage,
  type RuleOptions,
} from './rule-check.js';
export {
  defineRule,
  forgetRule,
  hasRule,
  type KeelRules,
  type RuleArgs,
  type RuleDefinition,
  type RuleFactory,
  rule,
} from './rule-registry.js';
export type { Condition } from './rules/field-rules.js';
export { type KeelRuleName, rules } from './rules/index.js';
export type { ValidationContext } from './validation-context.js';
export {
  type ValidateOptions,
  type ValidationResult,
  validate,
  validateOrThrow,
  validateSync,
} from './validator.js';
