import type { SiteSession } from './sessions.js';

/** Has `session` used up its pages? After `usageCap` pages a session only gets a captcha page. */
export function overUsageCap(session: SiteSession | undefined, usageCap: number | undefined): boolean {
    return usageCap !== undefined && session !== undefined && session.pages >= usageCap;
}
