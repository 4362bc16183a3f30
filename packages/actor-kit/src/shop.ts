/**
 * The proving ground's shop asks every new session to pick a location through a form guarded by a CSRF token. These
 * rules do that at `init`: over HTTP (`sendRequest`, for Cheerio) or in the session's own browser page.
 */
import type { Rule } from '@sessionpack/core';
import { CSRF_FIELD, CSRF_HEADER } from '@sessionpack/proving-ground';

/**
 * Over HTTP: fetch the landing page (the site's session cookie), read the CSRF token from the location form, post the
 * location; every later request carries the token in a header (the shop's JSON API checks it).
 */
export function shopHttpRule(siteUrl: string, location = 'DE'): Rule {
    const site = siteUrl.replace(/\/$/, '');
    return {
        match: `${site}/**`,
        init: async ({ session, sendRequest }) => {
            await sendRequest(`${site}/`);
            const form = await sendRequest(`${site}/location`);
            const token = new RegExp(`name="${CSRF_FIELD}" value="([^"]+)"`).exec(form.body)?.[1];
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

/** What {@link shopBrowserRule} needs of a page: a subset that Playwright's and Puppeteer's pages both have. */
export interface ShopPage {
    goto(url: string): Promise<unknown>;
    $(selector: string): Promise<unknown>;
    click(selector: string): Promise<unknown>;
    waitForNavigation(): Promise<unknown>;
    content(): Promise<string>;
    url(): string;
    setDefaultTimeout(timeout: number): void;
}

/**
 * In the browser: the session's `init` opens a page of its own context (`newPage`, given by the browser adapters),
 * picks `location` in the shop's form with `choose` (the library's select call), submits, and checks the shop kept it.
 */
export function shopBrowserRule<P extends ShopPage>(
    siteUrl: string,
    location: string,
    choose: (page: P, selector: string, location: string) => Promise<unknown>,
): Rule<{ init: { newPage(): Promise<P> } }> {
    const site = siteUrl.replace(/\/$/, '');
    const select = 'select[name=location]';
    return {
        match: `${site}/**`,
        init: async ({ newPage }) => {
            const page = await newPage();
            page.setDefaultTimeout(10_000);
            // A new visitor may first get a landing page that starts the shop's session: then the form comes next time.
            for (let visit = 0; visit < 2 && !(await page.$(select)); visit++) await page.goto(`${site}/location`);
            if (!(await page.$(select))) throw new Error(`no location form at ${page.url()} (blocked?)`);
            await choose(page, select, location);
            await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
            const chosen = /id="current-location"[^>]*>([^<]*)</.exec(await page.content())?.[1];
            if (chosen !== location) throw new Error(`the shop kept location ${chosen}`);
        },
    };
}
