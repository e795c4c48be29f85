export { type ErrorsTopOutput, errorsTopCommand } from './errors-top-command.js';
