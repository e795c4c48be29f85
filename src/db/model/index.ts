export { BaseModel } from './base-model.js';
export { Column, type ColumnKind, type ColumnMap, type ColumnSpec, column } from './column.js';
export { defineModel, type ModelClass, type ModelInstance } from './define-model.js';
export {
  type ChangesOf,
  type ModelEvent,
  type ModelEventListener,
  type ModelEventType,
  onModelEvent,
} from './model-events.js';
export { ModelQuery, type UpdateValues, type WhereValue } from './model-query.js';
export { type CreateInputOf, type KeyOf, type ModelStatic, ModelStatics } from './model-statics.js';
export type {
  AttributeOf,
  Attributes,
  ColumnName,
  InputOf,
  ModelChanges,
  ModelLike,
  ModelOptions,
  ModelShape,
  NumericColumn,
  PathTarget,
  RelatedOf,
  RelationName,
  RelationPath,
  SerializedModel,
  ShapeOf,
  TimestampOptions,
  ValueOf,
} from './model-types.js';
export {
  type CursorOrderBy,
  type CursorPage,
  type CursorPaginateOptions,
  MAX_PAGE_SIZE,
  type OrderColumn,
  type Paginated,
} from './pagination.js';
export {
  type NPlusOneMode,
  type QueryScopeContext,
  type QueryScopeLogger,
  type QueryScopeOptions,
  type QueryScopeReport,
  queryScopeMiddleware,
  queryShape,
  type RepeatedQuery,
  trackQueries,
  watchQueries,
  withQueryScope,
} from './query-scope.js';
export type {
  BelongsToOptions,
  HasOptions,
  ManyToManyOptions,
  RelationKind,
} from './relations.js';
export type { WhereOperator } from './where-clause.js';
