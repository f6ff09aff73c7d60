export { SessionBinding } from './session-binding.js';
