/** Input sanitizers: composable string clean-up applied to body and query before validation. */

export { sanitize, sanitizeFactory, sanitizeMiddleware } from './sanitize-middleware.js';
export {
  compileSanitizeProfiles,
  compileSanitizers,
  DEFAULT_SANITIZERS,
  type PartRules,
  type SanitizeConfig,
  type SanitizeOptions,
  type SanitizerSpec,
} from './sanitize-rules.js';
export {
  collapseWhitespace,
  compose,
  limitCombining,
  lowercase,
  normalize,
  type Sanitizer,
  stripControl,
  stripInvisible,
  stripTags,
  trim,
  uppercase,
} from './sanitizers.js';
