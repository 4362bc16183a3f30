/**
 * The size of a session's browser window content (the layout viewport pages are rendered at), from its fingerprint.
 */
import type { BrowserFingerprintWithHeaders } from 'fingerprint-generator';

/**
 * CSS pixels Chrome's own UI (tab strip and toolbar) takes above the page in a desktop window, about what Chrome shows
 * without a bookmarks bar. fingerprint-generator's samples have the window's outer size but no inner size (theirs
 * is 0: collected in a hidden frame), so the page area is the outer size less this.
 */
export const BROWSER_UI_HEIGHT = 85;

/** A window whose page area would be narrower or lower than this is taken as missing, and the screen is used instead. */
const MIN_WINDOW = 200;

/**
 * The viewport a session's pages get: the inner size of the fingerprint's browser window (its outer width, its outer
 * height less {@link BROWSER_UI_HEIGHT}), within its screen; the whole screen when the fingerprint has no usable window
 * size. A page then sees `innerWidth <= outerWidth` and `innerHeight < outerHeight`, as in a real browser (fingerprint-injector
 * reports the fingerprint's outer size and screen, and the inner size is the viewport's): a viewport the size of the
 * whole screen made `innerHeight` larger than `outerHeight`, which no real window has, and rendered more pixels.
 */
export function windowViewport(fingerprint: BrowserFingerprintWithHeaders['fingerprint']): { width: number; height: number } {
    const { screen } = fingerprint;
    const width = Math.round(Math.min(Number(screen.outerWidth) || 0, screen.width));
    const height = Math.round(Math.min(Number(screen.outerHeight) || 0, screen.height) - BROWSER_UI_HEIGHT);
    if (width < MIN_WINDOW || height < MIN_WINDOW) return { width: screen.width, height: screen.height };
    return { width, height };
}
