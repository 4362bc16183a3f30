/**
 * @sessionpack/core/adapter: what crawler adapters need to put a SessionManager between a Crawlee crawler and its
 * requests. Users of the session engine import `@sessionpack/core` instead.
 */
export { CrawlerBinding, redirectCookies } from '../crawler-binding.js';
export type { CheckOptions } from '../crawler-binding.js';
export { AttemptTracker } from '../attempts.js';
export { createSendRequest } from '../send-request.js';
export type { CreateSendRequestOptions } from '../send-request.js';
export type { AttemptMarks } from '../session.js';
export type { AcquireOptions, InitToolHelpers } from '../init.js';
export { BadSessionError, SessionsUnavailableError, TargetError } from '../errors.js';
export { SessionEvents } from '../events.js';
