#!/usr/bin/env node
// The keel binary runs the compiled framework in dist/ (built by `npm run build`).
import { main } from '../dist/cli/main.js';

await main();
