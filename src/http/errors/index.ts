export { type ErrorsTopOutput, errorsTopCommand } from './commands/index.js';
export {
  ErrorAggregator,
  type ErrorAggregatorOptions,
  type ErrorGroup,
  type ErrorSnapshot,
  errorKey,
  topFrame,
} from './error-aggregator.js';
export {
  type ErrorEvent,
  type ErrorLogger,
  type ErrorReporter,
  ErrorReporterRegistry,
  loggable,
  loggerReporter,
  type ReportContext,
} from './error-reporter.js';
export * from './errors.js';
export { abort, httpError, isPlainStatusCode, statusCode } from './http-error.js';
export {
  defineHttpError,
  type HttpErrorClass,
  type HttpErrorOptions,
  HttpException,
  isErrorStatus,
  reasonPhrase,
} from './http-exception.js';
export {
  installLastResortHandlers,
  type LastResortOptions,
  type LastResortTarget,
} from './last-resort.js';
export {
  DEFAULT_TYPE_BASE_URL,
  isExposed,
  PROBLEM_CONTENT_TYPE,
  type ProblemDocument,
  type ProblemFieldError,
  type ProblemOptions,
  type ProblemRequest,
  type ProblemResponse,
  statusOf,
  toProblem,
} from './problem.js';
export {
  type CauseSummary,
  describeThrown,
  type ThrownDescription,
  toJsonSafe,
} from './safe-error.js';
