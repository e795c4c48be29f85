export { createTestApp, type TestApp, type TestAppOptions } from './test-app.js';
