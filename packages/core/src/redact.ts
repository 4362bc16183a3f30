/**
 * Proxy credentials never leave the process: every URL or message we print, persist or put in stats goes through here.
 */

const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/)([^:@/\s]*):([^@/\s]+)@/gi;

/** `http://user:secret@host:8000` → `http://user:***@host:8000`. Anything unparsable is passed through {@link redactText}. */
export function redactUrl(url: string): string {
    try {
        const u = new URL(url);
        if (!u.password) return url;
        u.password = '***';
        return u.toString().replace(/\/$/, url.endsWith('/') ? '/' : '');
    } catch {
        return redactText(url);
    }
}

/** Replaces the password of every `scheme://user:password@` URL inside arbitrary text with `***`. */
export function redactText(text: string): string {
    return text.replace(URL_CREDENTIALS, (_m, scheme: string, user: string) => `${scheme}${user}:***@`);
}

/**
 * Knows the secrets (proxy passwords, also URL-decoded) of the configured proxies and scrubs them from any text,
 * even when they appear outside a URL (e.g. in an error message that quotes an `Authorization` value).
 */
export class Redactor {
    private secrets = new Set<string>();

    /** Remembers the password of `url` (if any). */
    addUrl(url: string): void {
        try {
            const u = new URL(url);
            if (u.password) {
                this.secrets.add(u.password);
                try {
                    this.secrets.add(decodeURIComponent(u.password));
                } catch {
                    /* keep the raw one */
                }
                if (u.username) {
                    const basic = Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString(
                        'base64',
                    );
                    this.secrets.add(basic);
                }
            }
        } catch {
            /* not a URL: nothing to remember */
        }
    }

    /** Scrubs URL credentials and every known secret from `text`. */
    text(text: string): string {
        let out = redactText(text);
        for (const s of this.secrets) {
            if (s.length >= 3 && out.includes(s)) out = out.split(s).join('***');
        }
        return out;
    }

    /** A printable message for any thrown value, scrubbed. */
    error(error: unknown): string {
        if (error instanceof Error) return this.text(`${error.name === 'Error' ? '' : `${error.name}: `}${error.message}`);
        return this.text(String(error));
    }
}
