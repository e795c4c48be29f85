import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * A full garbage collection, for tests that check an object is no longer reachable (through
 * a `WeakRef`). V8's `gc` is exposed at run time, so the suite needs no `--expose-gc` flag.
 */
export function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}
