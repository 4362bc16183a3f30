/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
    return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Path the beacon script posts to. */
export const BEACON_PATH = '/__beacon';

/**
 * The beacon on every content page: reports `navigator.userAgent` (as JSON `{"ua": ...}`) to
 * {@link BEACON_PATH}, with the session cookie, the way fingerprinting scripts of anti-bot vendors do.
 */
export const BEACON_SCRIPT = `<script>(function(){try{var b=JSON.stringify({ua:navigator.userAgent});` +
    `if(navigator.sendBeacon){navigator.sendBeacon('${BEACON_PATH}',b)}` +
    `else{fetch('${BEACON_PATH}',{method:'POST',body:b,credentials:'same-origin',keepalive:true})}}catch(e){}})();</script>`;

/** A complete small HTML document with the beacon. */
export function layout(title: string, body: string, options: { beacon?: boolean; head?: string } = {}): string {
    return `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>${options.head ?? ''}</head>\n` +
        `<body>\n<header><a href="/">Shop</a> · <a href="/location">Location</a></header>\n<main>\n${body}\n</main>\n` +
        `${options.beacon === false ? '' : BEACON_SCRIPT}\n</body></html>\n`;
}
