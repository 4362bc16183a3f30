import type { Rule } from '@sessionpack/core';
import { CSRF_FIELD, CSRF_HEADER } from '@sessionpack/proving-ground';

/**
 * The session set-up the proving ground's shop asks for, as a sessionpack rule: a new session first
 * fetches the landing page (the site's session cookie), then picks a location through the form that
 * needs the CSRF token; every later request carries the token in a header (the JSON API checks it).
 */
export function shopRule(siteUrl: string, location = 'DE'): Rule {
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
