export { withSessions } from './with-sessions.js';
