/**
 * What every crawler in the end-to-end benchmark knows about the proving ground's shop, written once for sessionpack
 * (a rule) and once the way a stock Crawlee user would write it (hooks): a new session first loads the landing page
 * (the site's session cookie), then chooses a location through the form that needs the CSRF token; later requests
 * carry the token. The same content check judges every page: a product page has a price. Both warm-ups give up as soon
 * as the landing page did not hand out the site's session cookie (a block page does not), so a blocked proxy costs one
 * request of warm-up, not two.
 *
 * The rule is the one of examples/cheerio-actor/src/shop.ts plus that early check (the example package is not a
 * dependency of the bench).
 */
import type { Session } from '@crawlee/core';
import type { Rule } from '@sessionpack/core';
import { CSRF_FIELD, CSRF_HEADER, SESSION_COOKIE } from '@sessionpack/proving-ground';

export const LOCATION = 'DE';

const tokenPattern = new RegExp(`name="${CSRF_FIELD}" value="([^"]+)"`);

/** sessionpack: the shop's warm-up as a rule (init over HTTP with the session's proxy, headers and cookies; prepare adds the token). */
export function shopRule(siteUrl: string, location = LOCATION): Rule {
    const site = siteUrl.replace(/\/$/, '');
    return {
        match: `${site}/**`,
        init: async ({ session, sendRequest }) => {
            const landing = await sendRequest(`${site}/`);
            if (!session.getCookieString(site).includes(`${SESSION_COOKIE}=`)) throw new Error(`no session cookie from the landing page (status ${landing.statusCode})`);
            const form = await sendRequest(`${site}/location`);
            const token = tokenPattern.exec(form.body)?.[1];
            if (!token) throw new Error(`no CSRF token in the location form (status ${form.statusCode})`);
            const chosen = await sendRequest({ url: `${site}/location`, method: 'POST', form: { [CSRF_FIELD]: token, location } });
            if (chosen.statusCode >= 400) throw new Error(`the location form answered ${chosen.statusCode}`);
            session.userData.csrf = token;
        },
        prepare: ({ session, headers }) => {
            if (session.userData.csrf) headers[CSRF_HEADER] = String(session.userData.csrf);
        },
    };
}

type StockSendRequest = (options: Record<string, unknown>) => Promise<{ statusCode: number; body: string; headers: Record<string, unknown> }>;

/**
 * Stock CheerioCrawler: the same warm-up in a pre-navigation hook, with Crawlee's own `sendRequest` (the session's
 * proxy and got-scraping header set). A warm-up that is refused retires the session and fails the attempt.
 *
 * Crawlee 3.18's `sendRequest` neither sends nor stores the session's cookies (its got-scraping client drops the cookie
 * jar it is given; apify/crawlee#3117), so the hook carries them by hand, as a user who hit that would.
 */
export function stockHttpWarmUp(siteUrl: string, location = LOCATION) {
    const site = siteUrl.replace(/\/$/, '');
    return async (
        { session, sendRequest }: { session?: Session; sendRequest: unknown },
        gotOptions: { headers?: Record<string, unknown> },
    ): Promise<void> => {
        if (!session) throw new Error('the stock crawler runs with its session pool');
        const send = async (options: Record<string, unknown> & { url: string }) => {
            const response = await (sendRequest as StockSendRequest)({ ...options, headers: { cookie: session.getCookieString(options.url) } });
            session.setCookiesFromResponse(response as never);
            return response;
        };
        if (!session.userData.csrf) {
            const fail = (why: string): never => {
                session.retire();
                throw new Error(`warm-up failed: ${why}`);
            };
            const landing = await send({ url: `${site}/` });
            if (!session.getCookieString(site).includes(`${SESSION_COOKIE}=`)) fail(`no session cookie from the landing page (status ${landing.statusCode})`);
            const form = await send({ url: `${site}/location` });
            const token = tokenPattern.exec(form.body)?.[1] ?? fail(`no CSRF token in the location form (status ${form.statusCode})`);
            const chosen = await send({ url: `${site}/location`, method: 'POST', form: { [CSRF_FIELD]: token, location } });
            if (chosen.statusCode >= 400) fail(`the location form answered ${chosen.statusCode}`);
            session.userData.csrf = token;
        }
        gotOptions.headers = { ...gotOptions.headers, [CSRF_HEADER]: String(session.userData.csrf) };
    };
}

/** What the browser warm-up needs of a page, for Playwright and Puppeteer alike. */
export interface WarmUpPage {
    goto(url: string): Promise<{ status(): number } | null>;
    /** Whether the page shows the location form (a block page does not). */
    hasLocationForm(): Promise<boolean>;
    /** Names of the cookies the page's context holds for the site. */
    cookieNames(): Promise<string[]>;
    /** Chooses `location` in the form and submits it, waiting for the navigation. */
    chooseLocation(location: string): Promise<void>;
    currentLocation(): Promise<string | null>;
}

/**
 * Stock Playwright/PuppeteerCrawler: the warm-up in a pre-navigation hook, in the crawler's own page (its proxy, its
 * fingerprint); Crawlee keeps the page's cookies in the session (`persistCookiesPerSession`, on by default).
 */
export async function stockBrowserWarmUp(siteUrl: string, session: Session | undefined, page: WarmUpPage, location = LOCATION): Promise<void> {
    if (!session) throw new Error('the stock crawler runs with its session pool');
    if (session.userData.located) return;
    const site = siteUrl.replace(/\/$/, '');
    const fail = (why: string): never => {
        session.retire();
        throw new Error(`warm-up failed: ${why}`);
    };
    const landing = await page.goto(`${site}/`);
    if (!(await page.cookieNames()).includes(SESSION_COOKIE)) fail(`no session cookie from the landing page (status ${landing?.status()})`);
    const form = await page.goto(`${site}/location`);
    if (!form || form.status() >= 400) fail(`location form answered ${form?.status()}`);
    if (!(await page.hasLocationForm())) fail('no location form on the page (a block page?)');
    await page.chooseLocation(location).catch((e: unknown) => fail(`could not choose a location: ${String(e)}`));
    if ((await page.currentLocation()) !== location) fail('the location did not stick');
    session.userData.located = true;
}
