/** What a store keeps for one session. */
export interface SessionRecord {
  /** The application's values. */
  data: Record<string, unknown>;
  /** Flash bookkeeping: keys flashed this request (`new`) and readable this request (`old`). */
  flash: { new: string[]; old: string[] };
  /** The authenticated user, as a string, or null. */
  userId: string | null;
  ip: string | null;
  userAgent: string | null;
  /** Epoch milliseconds. */
  createdAt: number;
  /** Epoch milliseconds of the last request that saved or touched the session. */
  lastActivity: number;
}

/** How long a session lives: idle time since the last activity, and in total. */
export interface SessionLifetime {
  idleMs: number;
  absoluteMs: number;
}

/** When the session stops being valid: the earlier of the idle and the absolute deadline. */
export function expiresAt(record: SessionRecord, lifetime: SessionLifetime): number {
  return Math.min(record.lastActivity + lifetime.idleMs, record.createdAt + lifetime.absoluteMs);
}

export function isExpired(record: SessionRecord, lifetime: SessionLifetime, now: number): boolean {
  return now >= expiresAt(record, lifetime);
}

/**
 * The record read back from a store, or undefined when it is not one: stored JSON is
 * re-checked field by field, so a corrupted row or file reads as "no session" instead of
 * crashing the request.
 */
export function toRecord(value: unknown): SessionRecord | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const r = value as Record<string, unknown>;
  const data = r.data;
  const flash = r.flash as Record<string, unknown> | undefined;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return undefined;
  if (typeof flash !== 'object' || flash === null) return undefined;
  if (!isStringArray(flash.new) || !isStringArray(flash.old)) return undefined;
  if (typeof r.createdAt !== 'number' || typeof r.lastActivity !== 'number') return undefined;
  if (!nullableString(r.userId) || !nullableString(r.ip) || !nullableString(r.userAgent))
    return undefined;
  return {
    data: data as Record<string, unknown>,
    flash: { new: flash.new, old: flash.old },
    userId: r.userId as string | null,
    ip: r.ip as string | null,
    userAgent: r.userAgent as string | null,
    createdAt: r.createdAt,
    lastActivity: r.lastActivity,
  };
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

function nullableString(value: unknown): boolean {
  return value === null || typeof value === 'string';
}
